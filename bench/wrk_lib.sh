# What the wrk benchmarks share (sourced after REPO, PORT and RUN_USER are
# set; ROOT before the functions are used): the prerequisites, the
# server's configuration head, starting and stopping it, the httpd
# children's CPU time, medians.

MODDIR=${MODDIR:-/usr/lib/apache2/modules}
MODULE=$REPO/mod_auth_token/mod_auth_token.so
ADMIN=$REPO/admin-cgi/token-admin

# The build, wrk and two CPUs (httpd on CPU 0, wrk on CPU 1).
for f in "$MODULE" "$ADMIN"; do
    [ -f "$f" ] || { echo "missing $f: run scripts/build.sh" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "needs two CPUs (httpd on 0, wrk on 1)" >&2; exit 1; }

# The first lines of conf/httpd.conf: one process of 32 threads on one
# core, so that every worker shares the per-process caches and registry
# connections, as on a real server; then the modules named as arguments
# (mpm_event, authn_core, authz_core and mime always).
httpd_conf_head() {
    cat <<EOF
ServerRoot "$ROOT"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$ROOT/logs/httpd.pid"
ErrorLog "$ROOT/logs/error_log"
LogLevel warn
User $RUN_USER
Group $RUN_USER
DocumentRoot "$ROOT/htdocs"
Mutex file:$ROOT/logs
DefaultRuntimeDir "$ROOT/logs"
StartServers 1
ServerLimit 1
ThreadsPerChild 32
MaxRequestWorkers 32
KeepAliveTimeout 30
MaxKeepAliveRequests 0
TypesConfig /etc/mime.types
<Directory />
    AllowOverride None
</Directory>
<Directory "$ROOT/htdocs">
    Require all granted
</Directory>
EOF
    for m in mpm_event authn_core authz_core mime "$@"; do
        echo "LoadModule ${m}_module $MODDIR/mod_$m.so"
    done
}

stop_httpd() {
    if [ -f "$ROOT/logs/httpd.pid" ]; then
        pid=$(cat "$ROOT/logs/httpd.pid")
        apachectl -d "$ROOT" -f conf/httpd.conf -k stop >/dev/null 2>&1 || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1; i=$((i + 1))
        done
    fi
}

# Starts httpd on CPU 0 and waits until PATH answers.
start_httpd() {
    taskset -c 0 apachectl -d "$ROOT" -f conf/httpd.conf -k start
    i=0
    until curl -fs -o /dev/null "http://127.0.0.1:$PORT$1"; do
        i=$((i + 1)); [ $i -lt 100 ] || { cat "$ROOT/logs/error_log" >&2; exit 1; }
        sleep 0.1
    done
}

# CPU time (user + system, clock ticks) the httpd children used so far.
# Per request it measures the work itself, whatever else CPU 0 is doing.
HZ=$(getconf CLK_TCK)
httpd_ticks() {
    t=0
    for pid in $(pgrep -P "$(cat "$ROOT/logs/httpd.pid")"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo $t
}

# record NAME WRK_OUTPUT TICKS_BEFORE TICKS_AFTER: requests/s appended to
# $ROOT/NAME.txt, httpd CPU microseconds per request to $ROOT/NAME.cpu; a
# non-2xx/3xx answer fails the run (a fast error is not a result).
record() {
    if printf '%s' "$2" | grep -q "Non-2xx"; then
        printf '%s\n' "$2" >&2
        echo "$1: non-2xx answers" >&2
        exit 1
    fi
    printf '%s' "$2" | awk '/Requests\/sec/ {print $2}' >> "$ROOT/$1.txt"
    printf '%s' "$2" | awk -v t=$(($4 - $3)) -v hz="$HZ" \
        '/requests in/ {printf "%.2f\n", t / hz * 1e6 / $1}' >> "$ROOT/$1.cpu"
}

median() {
    sort -n "$ROOT/$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}
