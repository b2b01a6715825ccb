/* Recording issued jtis with a group commit. Every access token's jti is
 * written to the registry before the token is handed out, and one SQLite
 * commit per token was a quarter of the token endpoint's CPU time. So the
 * threads of a process queue their jtis: one of them (the leader) writes
 * everything queued in one transaction while the others wait; whoever
 * queued meanwhile is written by the next leader. An idle server commits
 * at once, a busy one in batches, and no token leaves before its jti is
 * committed, so revocation by jti never meets an unknown jti.
 *
 * Code exchanges queue the same way: each is a consume-and-record of its
 * own (at_code_redeem_many gives each its result), written in the
 * leader's transaction with whatever jtis are queued. */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"

#include "mod_auth_token.h"
#include "issuer_private.h"
#include "at_registry_authz.h"

APLOG_USE_MODULE(auth_token);

/* More per commit would only make the first of them wait longer. */
#define BATCH_MAX 64

typedef struct jti_req {
    at_jti_rec_t rec;
    at_redeem_t *redeem;          /* a code exchange instead of a jti */
    struct jti_req *next;
    int done;
    apr_status_t rv;
    at_error_t err;
} jti_req_t;

struct at_jtiq {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *written;   /* a batch finished */
    jti_req_t *head, *tail;       /* waiting to be written */
    int writing;                  /* a leader is at work */
};

/* Per-process cache (registry key -> at_jtiq_t *), made in child_init. */
static apr_hash_t *queues;

static void *make_queue(apr_pool_t *p, server_rec *s)
{
    at_jtiq_t *q = apr_pcalloc(p, sizeof(*q));

    if (apr_thread_mutex_create(&q->lock, APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS
        || apr_thread_cond_create(&q->written, p) != APR_SUCCESS) {
        return NULL;
    }
    return q;
}

void at_jtiq_child_init(apr_pool_t *pchild, server_rec *main_s)
{
    queues = at_issuer_per_registry(pchild, main_s, make_queue);
}

at_jtiq_t *at_issuer_jtiq(request_rec *r)
{
    const char *key = at_issuer_registry_key(r->pool, r->server);

    return queues && key ? apr_hash_get(queues, key, APR_HASH_KEY_STRING)
                         : NULL;
}

/* With q->lock held: writes up to BATCH_MAX queued jtis on CONN, the lock
 * released meanwhile. 1 when the database failed. */
static int write_batch(request_rec *r, at_jtiq_t *q, at_conn_t *conn)
{
    at_jti_rec_t recs[BATCH_MAX];
    at_redeem_t *redeems[BATCH_MAX];
    jti_req_t *batch = q->head, *req;
    apr_status_t rv;
    at_error_t err;
    int n = 0, nrec = 0, nred = 0;

    for (req = batch; req && n < BATCH_MAX; req = req->next, n++) {
        if (req->redeem) {
            redeems[nred++] = req->redeem;
        }
        else {
            recs[nrec++] = req->rec;
        }
    }
    /* Detach the batch: later arrivals queue behind it. */
    q->head = req;
    if (!req) {
        q->tail = NULL;
    }
    q->writing = 1;
    apr_thread_mutex_unlock(q->lock);

    err.text[0] = '\0';
    at_issuer_write_begin(conn);
    rv = nred ? at_code_redeem_many(at_conn_registry(conn), r->pool, redeems,
                                    nred, recs, nrec, &err)
              : at_jti_record_many(at_conn_registry(conn), r->pool, recs,
                                   nrec, &err);
    at_issuer_write_end(conn);
    if (n > 1) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, rv, r,
                      "AT00616: recorded %d jtis in one commit", n);
    }

    apr_thread_mutex_lock(q->lock);
    for (req = batch; n-- > 0; req = req->next) {
        req->rv = rv;
        req->err = err;
        req->done = 1;
    }
    q->writing = 0;
    apr_thread_cond_broadcast(q->written);
    return at_registry_failed(rv);
}

/* Queues REQ and returns when the leader (maybe this thread) wrote it. */
static apr_status_t grouped(request_rec *r, at_conn_t *conn, at_jtiq_t *q,
                            jti_req_t *req, at_error_t *err, int *db_failed)
{
    req->next = NULL;
    req->done = 0;

    apr_thread_mutex_lock(q->lock);
    if (q->tail) {
        q->tail->next = req;
    }
    else {
        q->head = req;
    }
    q->tail = req;
    while (!req->done) {
        if (!q->writing) {
            /* Only the leader's own connection can have failed. */
            int failed = write_batch(r, q, conn);
            if (failed) {
                *db_failed = failed;
            }
        }
        else {
            apr_thread_cond_wait(q->written, q->lock);
        }
    }
    apr_thread_mutex_unlock(q->lock);
    /* A batch another thread wrote on a connection that found the server
     * gone: this request answers 503 too. */
    if (req->rv == APR_ECONNREFUSED) {
        at_issuer_registry_down(r);
    }
    *err = req->err;
    return req->rv;
}

apr_status_t at_jti_record_grouped(request_rec *r, at_conn_t *conn,
                                   const at_jti_rec_t *rec, at_error_t *err,
                                   int *db_failed)
{
    at_jtiq_t *q = at_issuer_jtiq(r);
    jti_req_t req;

    if (!q) {
        apr_status_t rv;

        at_issuer_write_begin(conn);
        rv = at_jti_record_many(at_conn_registry(conn), r->pool, rec, 1,
                                err);
        at_issuer_write_end(conn);
        *db_failed = at_registry_failed(rv);
        return rv;
    }
    req.rec = *rec;
    req.redeem = NULL;
    return grouped(r, conn, q, &req, err, db_failed);
}

apr_status_t at_code_redeem_grouped(request_rec *r, at_conn_t *conn,
                                    at_redeem_t *item, at_error_t *err,
                                    int *db_failed)
{
    at_jtiq_t *q = at_issuer_jtiq(r);
    jti_req_t req;
    apr_status_t rv;

    if (!q) {
        at_issuer_write_begin(conn);
        rv = at_code_redeem_many(at_conn_registry(conn), r->pool, &item, 1,
                                 NULL, 0, err);
        at_issuer_write_end(conn);
    }
    else {
        memset(&req.rec, 0, sizeof(req.rec));
        req.redeem = item;
        rv = grouped(r, conn, q, &req, err, db_failed);
    }
    *db_failed = *db_failed || at_registry_failed(rv);
    return rv == APR_SUCCESS ? item->status : rv;
}
