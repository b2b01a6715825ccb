/* One fetch per source for the whole server, and each child's own parsed
 * copy of the result.
 *
 * Shared memory (anonymous, made in post_config before the children are
 * forked) holds one slot per source: the published JWK Set text, its
 * generation, when the next fetch is due, and counters that let a request
 * wait for the fetch it asked for. Each child runs one fetcher thread (no
 * dependence on mod_watchdog); every second, or at once when a request
 * asks, it looks at each slot:
 *
 *  - a fetch is due (scheduled time reached, or a refetch was asked for):
 *    it claims the slot under the global mutex (only one child wins; a
 *    claim of a child that died expires), fetches WITHOUT holding any
 *    lock, and publishes the text, or on failure only the time of the next
 *    attempt, so the last good set stays;
 *  - the generation changed: it copies the text under the global mutex
 *    (a memcpy) and parses it outside any lock into a new key set in a pool
 *    of its own, then swaps it in under the process lock. The old set is
 *    freed when the last request holding it lets go.
 *
 * The request path never touches the global mutex and never waits for the
 * network: it takes the current set under the process lock (a pointer and
 * a count), and only the one request whose unknown kid caused a refetch,
 * or a request arriving before the first attempt finished, waits for the
 * outcome, bounded by the fetch's time limit.
 */
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_core.h"
#include "util_mutex.h"
#include "apr_shm.h"
#include "apr_global_mutex.h"
#include "apr_thread_proc.h"
#include "apr_thread_mutex.h"
#include "apr_thread_cond.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "resource.h"
#include "jwks_remote.h"
#include "at_remote.h"

APLOG_USE_MODULE(auth_token);

#define MUTEX_TYPE "auth-token-jwks"
/* How often an idle fetcher looks at the slots, and how often while a
 * request waits for another child's fetch to be published. */
#define POLL_IDLE    apr_time_from_sec(1)
#define POLL_WAITING apr_time_from_msec(50)

typedef struct slot {
    /* Written under the global mutex; read by requests without it. */
    apr_uint32_t gen;          /* bumps when the published text changes */
    apr_uint32_t done;         /* attempts completed */
    apr_uint32_t asked;        /* refetch tickets handed out */
    apr_uint32_t answered;     /* the last ticket a completed attempt saw */
    apr_int64_t next_at;       /* scheduled attempt (now_sec) */
    apr_int64_t refetch_after; /* no refetch on demand before this (the
                                * scheduled ones do not count) */
    apr_int64_t claim_until;   /* an attempt runs until then; 0: none */
    int obtained;              /* a good set was ever published */
    apr_size_t len;
    char text[AT_REMOTE_MAX_BODY + 1];
} slot_t;

/* This process's view of one source (under the process lock). */
typedef struct live {
    const at_jwks_src_t *src; /* the first of its id */
    slot_t *slot;
    at_jwks_set_t *current;
    apr_uint32_t seen_gen, seen_done, seen_answered;
} live_t;

/* Per-process handles of the shared memory and the global mutex: made in
 * post_config (before the fork), re-attached in child_init. */
static apr_shm_t *shm;
static slot_t *slots;
static apr_global_mutex_t *gmutex;

/* Per-process state, made in child_init: the main server (whose
 * configuration holds the settings), one live_t per source id, the
 * fetcher thread and the process lock. */
static server_rec *main_server;
static live_t **lives;
static int nlives;
static apr_thread_mutex_t *plock;
static apr_thread_cond_t *kick, *changed;
static apr_thread_t *fetcher;
static int stopping, kicked, waiters;
static volatile int stop_transfers;

#define LOAD(x)     __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* Seconds on the monotonic clock, which every process of the machine
 * shares: a wall-clock step cannot stall or rush the schedule. */
static apr_int64_t now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_int64_t)ts.tv_sec;
}

/* Seconds one attempt may take: discovery reads up to three metadata
 * places before the set itself. */
static apr_int64_t attempt_limit(const at_jwks_src_t *src)
{
    return (src->url ? 1 : 4) * AT_FETCH_TIMEOUT_SEC + 2;
}

/* This process's view of SRC; NULL before child_init set it up. */
static live_t *live_of(const at_jwks_src_t *src)
{
    return lives && src->id >= 0 && src->id < nlives ? lives[src->id] : NULL;
}

/* The main server's configuration: AuthTokenJWKSRefresh and the like. */
static const at_srv_conf_t *settings(void)
{
    return at_srv_conf(main_server);
}

/* ---- sets ----------------------------------------------------------- */

at_jwks_set_t *at_jwks_acquire(at_jwks_src_t *src)
{
    live_t *lv = live_of(src);
    at_jwks_set_t *set;

    if (!lv) {
        return NULL;
    }
    apr_thread_mutex_lock(plock);
    set = lv->current;
    if (set) {
        set->refs++;
    }
    apr_thread_mutex_unlock(plock);
    return set;
}

void at_jwks_release(at_jwks_set_t *set)
{
    int last;

    if (!set) {
        return;
    }
    apr_thread_mutex_lock(plock);
    last = --set->refs == 0;
    apr_thread_mutex_unlock(plock);
    if (last) {
        apr_pool_destroy(set->pool);
    }
}

/* ---- fetching (fetcher thread) --------------------------------------- */

static int due(slot_t *sl, apr_int64_t now)
{
    return now >= LOAD(sl->next_at) || LOAD(sl->asked) != LOAD(sl->answered);
}

static void log_outcome(live_t *lv, apr_status_t rv, const char *why,
                        const at_fetch_result_t *res, int changed_text,
                        int had_set, long wait)
{
    const at_jwks_src_t *src = lv->src;
    size_t n = strlen(src->name);

    /* "URL: reason" -> "reason" where the name already says the URL. */
    if (why && !strncmp(why, src->name, n) && !strncmp(why + n, ": ", 2)) {
        why += n + 2;
    }
    if (rv == APR_SUCCESS && changed_text && res->skipped) {
        /* Once per published version, not at every refresh. */
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_server,
                     "AT01160: key set of %s: %d key(s) left out as "
                     "unusable, e.g. %s",
                     src->name, res->skipped, res->skip_why);
    }
    if (rv == APR_SUCCESS) {
        ap_log_error(APLOG_MARK, changed_text ? APLOG_INFO : APLOG_DEBUG, 0,
                     main_server,
                     "AT01151: key set of %s %s (%d keys from %s); next "
                     "fetch in %ld s",
                     src->name, changed_text ? "published" : "unchanged",
                     res->nkeys, res->jwks_uri, wait);
    } else if (had_set) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_server,
                     "AT01152: cannot refresh the key set of %s: %s; "
                     "keeping the last good set, next attempt in %ld s",
                     src->name, why, wait);
    } else {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_server,
                     "AT01153: cannot obtain the key set of %s: %s; its "
                     "tokens are answered 503 until it is obtained, next "
                     "attempt in %ld s",
                     src->name, why, wait);
    }
}

/* One attempt for LV when it is due and no other child runs one. */
static void fetch_if_due(live_t *lv, apr_pool_t *tp)
{
    slot_t *sl = lv->slot;
    apr_int64_t now = now_sec();
    apr_uint32_t ticket;
    at_fetch_result_t res;
    const char *why = NULL;
    apr_status_t rv;
    long wait;
    int changed_text = 0, had_set;

    /* The lock fails only when a restart removed it under a child that is
     * finishing: such a child fetches and publishes nothing more. */
    if (!due(sl, now) || apr_global_mutex_lock(gmutex) != APR_SUCCESS) {
        return;
    }
    if (sl->claim_until > now || !due(sl, now)) {
        apr_global_mutex_unlock(gmutex);
        return;
    }
    ticket = sl->asked;
    sl->claim_until = now + attempt_limit(lv->src);
    apr_global_mutex_unlock(gmutex);

    rv = at_fetch_jwks(tp, lv->src, at_jwks_fetch_ca(settings()),
                       &stop_transfers, &res, &why);

    if (apr_global_mutex_lock(gmutex) != APR_SUCCESS) {
        return; /* the claim expires */
    }
    if (stop_transfers) {
        /* Cut short by this child's exit: not the server's failure. */
        sl->claim_until = 0;
        apr_global_mutex_unlock(gmutex);
        return;
    }
    now = now_sec();
    had_set = sl->obtained;
    if (rv == APR_SUCCESS) {
        wait = at_remote_ttl(res.max_age, at_jwks_refresh(settings()));
        if (!sl->obtained || sl->len != res.len ||
            memcmp(sl->text, res.text, res.len) != 0) {
            memcpy(sl->text, res.text, res.len);
            sl->text[res.len] = '\0';
            sl->len = res.len;
            STORE(sl->gen, sl->gen + 1);
            changed_text = 1;
        }
        sl->obtained = 1;
    } else {
        wait = at_jwks_min_refetch(settings());
    }
    STORE(sl->next_at, now + wait);
    STORE(sl->answered, ticket);
    sl->claim_until = 0;
    STORE(sl->done, sl->done + 1);
    apr_global_mutex_unlock(gmutex);
    log_outcome(lv, rv, why, &res, changed_text, had_set, wait);
}

/* Makes a newly published generation this process's current set. */
static void import_if_new(live_t *lv)
{
    slot_t *sl = lv->slot;
    apr_uint32_t gen, done, answered;
    at_jwks_set_t *set = NULL, *old = NULL;
    apr_array_header_t *keys;
    at_error_t err = {{0}};
    apr_pool_t *pool;
    char *text = NULL;
    int skipped;
    apr_size_t len = 0;

    if (LOAD(sl->done) == lv->seen_done ||
        apr_global_mutex_lock(gmutex) != APR_SUCCESS) {
        return;
    }
    gen = sl->gen;
    done = sl->done;
    answered = sl->answered;
    if (gen != lv->seen_gen) {
        text = malloc(sl->len + 1);
        if (!text) {
            apr_global_mutex_unlock(gmutex);
            return; /* the next round tries again */
        }
        len = sl->len;
        memcpy(text, sl->text, len + 1);
    }
    apr_global_mutex_unlock(gmutex);

    if (text) {
        apr_pool_create_unmanaged_ex(&pool, NULL, NULL);
        if (at_jwks_load_set(pool, text, len, lv->src->name, &keys, &skipped,
                             &err) == APR_SUCCESS) {
            set = apr_pcalloc(pool, sizeof(*set));
            set->pool = pool;
            set->keys = keys;
            set->gen = gen;
            set->refs = 1; /* held as the current set */
        } else {
            /* The fetcher checked this very text: only memory can fail
             * here. Logged once per generation. */
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_server,
                         "AT01154: the published key set of %s does not "
                         "load in this process: %s",
                         lv->src->name, err.text);
            apr_pool_destroy(pool);
        }
        free(text);
    }

    apr_thread_mutex_lock(plock);
    if (set) {
        old = lv->current;
        lv->current = set;
    }
    lv->seen_gen = gen;
    lv->seen_done = done;
    lv->seen_answered = answered;
    apr_thread_cond_broadcast(changed);
    apr_thread_mutex_unlock(plock);
    at_jwks_release(old);
}

static void *APR_THREAD_FUNC fetcher_main(apr_thread_t *thd, void *data)
{
    apr_pool_t *tp;
    int i;

    apr_pool_create_unmanaged_ex(&tp, NULL, NULL);
    apr_thread_mutex_lock(plock);
    while (!stopping) {
        apr_thread_mutex_unlock(plock);
        for (i = 0; i < nlives && !stop_transfers; i++) {
            fetch_if_due(lives[i], tp);
            import_if_new(lives[i]);
            apr_pool_clear(tp);
        }
        apr_thread_mutex_lock(plock);
        if (!stopping && !kicked) {
            apr_thread_cond_timedwait(kick, plock,
                                      waiters ? POLL_WAITING : POLL_IDLE);
        }
        kicked = 0;
    }
    apr_thread_mutex_unlock(plock);
    apr_pool_destroy(tp);
    apr_thread_exit(thd, APR_SUCCESS);
    return NULL;
}

/* ---- the request side ------------------------------------------------ */

unsigned at_jwks_request_refetch(at_jwks_src_t *src)
{
    live_t *lv = live_of(src);
    slot_t *sl;
    apr_int64_t now = now_sec(), after;
    apr_uint32_t ticket;

    if (!lv) {
        return 0;
    }
    sl = lv->slot;
    after = LOAD(sl->refetch_after);
    if (now < after ||
        !__atomic_compare_exchange_n(&sl->refetch_after, &after,
                                     now + at_jwks_min_refetch(settings()), 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        return 0; /* rate-limited, or another request won just now */
    }
    ticket = __atomic_add_fetch(&sl->asked, 1, __ATOMIC_ACQ_REL);
    apr_thread_mutex_lock(plock);
    kicked = 1;
    apr_thread_cond_signal(kick);
    apr_thread_mutex_unlock(plock);
    return ticket ? ticket : 1;
}

/* Whether LV shows the outcome a waiter of TICKET waits for. */
static int waited_for(const live_t *lv, unsigned ticket)
{
    if (ticket) {
        return (apr_int32_t)(lv->seen_answered - ticket) >= 0;
    }
    return lv->current != NULL || lv->seen_done > 0;
}

int at_jwks_wait(at_jwks_src_t *src, unsigned ticket)
{
    live_t *lv = live_of(src);
    apr_time_t deadline, now;
    int ok;

    if (!lv) {
        return 0;
    }
    deadline = apr_time_now() + apr_time_from_sec(attempt_limit(src));
    apr_thread_mutex_lock(plock);
    waiters++;
    kicked = 1;
    apr_thread_cond_signal(kick);
    while (!(ok = waited_for(lv, ticket)) && !stopping &&
           (now = apr_time_now()) < deadline) {
        apr_thread_cond_timedwait(changed, plock, deadline - now);
    }
    waiters--;
    apr_thread_mutex_unlock(plock);
    return ok;
}

long at_jwks_retry_after(const at_jwks_src_t *src)
{
    const live_t *lv = live_of(src);
    const slot_t *sl;
    apr_int64_t now = now_sec(), at;
    long most;

    if (!lv) {
        return AT_FETCH_TIMEOUT_SEC;
    }
    sl = lv->slot;
    at = LOAD(sl->claim_until) > now ? now + AT_FETCH_TIMEOUT_SEC
                                     : LOAD(sl->next_at);
    most = at_jwks_min_refetch(settings());
    if (at - now > most) {
        return most;
    }
    return at - now < 1 ? 1 : (long)(at - now);
}

/* ---- hooks ----------------------------------------------------------- */

static int store_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    shm = NULL;
    slots = NULL;
    gmutex = NULL;
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static int store_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    const apr_array_header_t *srcs = at_jwks_number_sources(pconf, s);
    apr_size_t size;
    apr_status_t rv;
    int i;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG ||
        !srcs) {
        return OK;
    }
    rv = ap_global_mutex_create(&gmutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR; /* ap_global_mutex_create logs */
    }
    size = (apr_size_t)srcs->nelts * sizeof(slot_t);
    rv = apr_shm_create(&shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "AT01155: cannot create %" APR_SIZE_T_FMT " bytes of "
                     "anonymous shared memory for %d remote key sets",
                     size, srcs->nelts);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    slots = apr_shm_baseaddr_get(shm);
    for (i = 0; i < srcs->nelts; i++) {
        /* Only the header: the text pages stay untouched until used. */
        memset(&slots[i], 0, offsetof(slot_t, text));
        slots[i].text[0] = '\0';
    }
    return OK;
}

static apr_status_t stop_fetcher(void *data)
{
    apr_status_t rv;
    int i;

    apr_thread_mutex_lock(plock);
    stopping = 1;
    stop_transfers = 1;
    apr_thread_cond_broadcast(kick);
    apr_thread_cond_broadcast(changed);
    apr_thread_mutex_unlock(plock);
    if (fetcher) {
        apr_thread_join(&rv, fetcher);
        fetcher = NULL;
    }
    for (i = 0; i < nlives; i++) {
        at_jwks_release(lives[i]->current);
        lives[i]->current = NULL;
    }
    return APR_SUCCESS;
}

/* S is the main server. */
static void store_child_init(apr_pool_t *pchild, server_rec *s)
{
    const apr_array_header_t *srcs = at_jwks_sources(at_srv_conf(s));
    live_t **made;
    apr_status_t rv;
    int i;

    if (!slots || !srcs) {
        return;
    }
    main_server = s;
    rv = apr_global_mutex_child_init(&gmutex, apr_global_mutex_lockfile(gmutex),
                                     pchild);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_mutex_create(&plock, APR_THREAD_MUTEX_DEFAULT, pchild);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_thread_cond_create(&kick, pchild);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_thread_cond_create(&changed, pchild);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "AT01156: cannot set up the remote key sets in this "
                     "process (mutex); their tokens get 503");
        return;
    }
    at_fetch_global_init();
    made = apr_pcalloc(pchild, srcs->nelts * sizeof(*made));
    for (i = 0; i < srcs->nelts; i++) {
        const at_jwks_src_t *src = APR_ARRAY_IDX(srcs, i, at_jwks_src_t *);
        live_t *lv = apr_pcalloc(pchild, sizeof(*lv));

        lv->src = src;
        lv->slot = &slots[src->id];
        made[src->id] = lv;
    }
    lives = made;
    nlives = srcs->nelts;
    stopping = kicked = waiters = 0;
    stop_transfers = 0;
    /* A pre-cleanup: apr_thread_create hangs the thread's pool under
     * pchild, and sub-pools go before plain cleanups run. */
    apr_pool_pre_cleanup_register(pchild, NULL, stop_fetcher);
    rv = apr_thread_create(&fetcher, NULL, fetcher_main, NULL, pchild);
    if (rv != APR_SUCCESS) {
        fetcher = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "AT01157: cannot start the key-set fetcher thread in "
                     "this process; its requests for tokens verified by "
                     "fetched key sets get 503");
    }
}

void at_jwks_store_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(store_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(store_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(store_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
