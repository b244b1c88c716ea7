/*
 * iscsi_int.h - the iSCSI target's internals, shared by its files:
 *   iscsi_target.c   listener, epoll network thread, sockets, I/O pool
 *   iscsi_login.c    login phase: negotiation keys, CHAP, SendTargets
 *   iscsi_session.c  full feature phase: commands, data, R2T, NOP, TMF,
 *                    logout, and the responses built by I/O threads
 *
 * Threads: one network thread owns every socket's receive side and all
 * protocol state that only arriving PDUs change. I/O threads run SCSI
 * commands against the blockdev and queue their responses. Everything an
 * I/O thread touches on a connection (output queue, StatSN, ExpCmdSN,
 * the task list) is under conn->lock.
 *
 * Login PDUs run on a thread of their own (iscsi_login_job): looking the
 * machine up in the database and opening its disk (which may hash a base
 * image or create an overlay) must stall neither the network thread nor
 * the I/O threads other sessions need (opens are serialized anyway). While
 * one runs, the network thread does not read that connection, so the
 * login state is the job's alone; the phase it decides is applied by the
 * network thread before it reads again (login_next).
 */
#ifndef FB_ISCSI_INT_H
#define FB_ISCSI_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/uio.h>

#include "buf.h"
#include "proto/iscsi_pdu.h"
#include "iscsi/target.h"
#include "iscsi/scsi_lu.h"

#define ISCSI_OUR_MAX_RECV_DSL 262144u    /* what we declare we can receive */
#define ISCSI_LOGIN_MAX_DSL    65536u     /* login/text segments we accept */
#define ISCSI_OUR_MAX_BURST    (1u << 20) /* MaxBurstLength we accept */
#define ISCSI_OUR_FIRST_BURST  262144u
#define ISCSI_MAX_EDTL         (16u << 20)  /* largest write we buffer */
#define ISCSI_INLINE_MAX       (128u << 10) /* larger I/O always goes to I/O threads */
#define ISCSI_INLINE_SLOW_US   2000u        /* an inline write this slow: stop for a while */
#define ISCSI_CMD_WINDOW       64u          /* MaxCmdSN - ExpCmdSN + 1 */
#define ISCSI_MAX_PENDING      64           /* out-of-order commands held */
#define ISCSI_RX_BUF           65536u
#define ISCSI_OUT_LIMIT        (32u << 20) /* queued output that pauses input */
#define ISCSI_COLLECT_LIMIT    (64u << 20) /* write data gathered at once */
#define ISCSI_LOGIN_TIMEOUT_MS 30000u      /* connect to full feature phase */

/* Operational parameters of a session after negotiation. */
struct iscsi_params {
	uint32_t max_send_dsl; /* initiator's MaxRecvDataSegmentLength */
	uint32_t first_burst;
	uint32_t max_burst;
	int initial_r2t;
	int immediate_data;
};

/* Bytes waiting to be sent. */
struct iscsi_out {
	struct iscsi_out *next;
	size_t len, off;   /* bytes in all, bytes sent */
	int close_after;   /* logout response: close once it is out */
	int niov;          /* 0: the bytes are data[0..len); else iov[] */
	struct iovec *iov; /* pieces in order (headers in data, payload in ext) */
	void *ext;         /* payload buffer freed with this output */
	uint8_t data[];
};

enum iscsi_task_state { TASK_COLLECT, TASK_QUEUED };

/* What the login thread does with a task: handle the login PDU in c->bhs
 * and c->body, or free a connection whose last reference went away on
 * another thread (releasing its disk waits for the disk registry, which
 * an open in progress holds while it checks a base image). */
enum { LOGIN_PDU = 1, LOGIN_FREE = 2 };

struct iscsi_task {
	struct iscsi_task *next;  /* in conn->tasks (under conn->lock) */
	struct iscsi_task *qnext; /* in the target's work queue */
	struct iscsi_conn *c;
	int login; /* for the login thread: LOGIN_PDU or LOGIN_FREE */
	enum iscsi_task_state state;
	int aborted; /* a TMF aborted it: send nothing */
	uint32_t itt, cmdsn, edtl;
	uint64_t lun;
	uint8_t flags; /* R and W bits of the command */
	uint8_t cdb[16];
	uint8_t *data;        /* write data being collected (edtl bytes) */
	uint32_t received;    /* bytes of data in so far */
	uint32_t unsol_limit; /* unsolicited data allowed (first burst) */
	int unsol_done;       /* no more unsolicited Data-Out coming */
	uint32_t datasn;      /* next expected DataSN in this sequence */
	int r2t_active;
	uint32_t r2t_ttt, r2t_off, r2t_len, r2tsn;
	uint32_t acct;       /* bytes counted in conn->task_bytes */
	uint32_t collecting; /* bytes counted in conn->collect_bytes */
	/* A response decided before execution (bad LUN, oversize, bad data). */
	int early_status; /* SCSI status to answer with, without running */
	uint8_t early_key, early_asc, early_ascq;
};

enum iscsi_phase { PH_LOGIN, PH_FFP, PH_CLOSING };

/* Out-of-order command PDUs waiting for the CmdSN gap to fill. */
struct iscsi_held {
	struct iscsi_held *next;
	struct iscsi_bhs h;
	uint8_t *body;
	uint8_t *direct; /* data segment goes here (a task's buffer) instead */
	uint8_t pad[8];  /* padding (and data digest) after a direct segment */
	size_t body_cap; /* bytes allocated for body (a write's whole data) */
	size_t body_len;
};

struct iscsi_conn {
	struct fb_iscsi_target *t;
	struct iscsi_conn *next, *prev; /* the target's list (network thread) */
	int fd;
	struct sockaddr_in peer, local;
	char peer_str[32];

	pthread_mutex_t lock; /* guards the fields down to `tasks` */
	int refs;             /* network thread + one per queued task */
	int dead;             /* socket shut down: drop output */
	uint32_t ev_mask;     /* epoll events currently requested */
	int rx_paused;        /* too much output queued: input paused */
	int want_input;       /* input resumed: the network thread reads */
	int want_close;       /* close when the network thread sees it */
	int login_busy;       /* a login job runs: input stopped */
	int login_done;       /* it ended: login_next waits to be applied */
	struct iscsi_out *oh, *ot;
	size_t out_bytes;
	int sending;              /* a thread is writing oh to the socket (unlocked) */
	uint64_t task_bytes;      /* data buffers tasks may hold (see acct) */
	uint32_t statsn;          /* next StatSN */
	uint32_t expcmdsn;        /* next expected CmdSN */
	struct iscsi_task *tasks; /* tasks not yet answered */

	/* Receive state (network thread only). */
	uint8_t *rb; /* staging buffer, ISCSI_RX_BUF bytes */
	size_t rb_start, rb_end;
	uint8_t hdr[ISCSI_BHS_LEN + 4]; /* BHS and its header digest */
	size_t hdr_got;
	struct iscsi_bhs bhs;
	uint8_t *body;   /* AHS + data + padding, plus one NUL */
	uint8_t *direct; /* data segment goes here (a task's buffer) instead */
	uint8_t pad[8];  /* padding (and data digest) after a direct segment */
	size_t body_cap; /* bytes allocated for body (a write's whole data) */
	size_t body_len; /* bytes of the body on the wire (with a data digest) */
	size_t body_got; /* ... received so far */

	int closed;       /* conn_close ran (network thread) */
	int prelogin;     /* counted in t->prelogin (network thread) */
	uint64_t born_ms; /* accepted at (monotonic), for the login timeout */
	enum iscsi_phase phase;
	int discovery; /* SessionType=Discovery */
	/* Login state. */
	int login_started;
	int csg;       /* current stage 0 security, 1 operational */
	int chap_step; /* 0 none, 1 challenge sent, 2 authenticated */
	uint8_t chap_id;
	uint8_t chap_chal[16];
	char macid[64];           /* canonical MACID (macid_normalize), set once */
	char target_name[256];    /* fixed by the first login PDU naming it */
	char initiator_name[256]; /* ... likewise */
	char secret[33];          /* CHAP secret the initiator proves */
	char mutual[33];          /* the target's own secret for mutual CHAP */
	/* Not empty: the backend wants mutual CHAP for this machine, and
	 * this is why (the log's words when the initiator does not ask). */
	char must_mutual[FB_ISCSI_REASON_LEN];
	int chap_mutual; /* the target proved itself to the initiator */
	/* The machine may not log in (unknown, or its address refused): CHAP
	 * runs on against a random secret and then fails like a wrong
	 * response, so the initiator cannot tell which; this says why (log). */
	const char *refused;
	enum iscsi_phase login_next; /* the phase the login job decided */
	int login_reinstate;         /* it completed a login: end older sessions */
	uint64_t isid;
	uint16_t tsih, cid;
	uint32_t login_itt;
	struct fb_buf login_text; /* request text carried over C-bit PDUs */
	struct iscsi_params p;
	int mrdsl_sent;
	int hdigest_neg; /* HeaderDigest=CRC32C negotiated */
	int hdigest;     /* ... and in effect (full feature phase) */
	int ddigest_neg; /* DataDigest=CRC32C negotiated */
	int ddigest;     /* ... and in effect */

	struct iscsi_held *held; /* commands beyond ExpCmdSN */
	int nheld;
	uint32_t next_ttt;
	uint64_t collect_bytes; /* write buffers still gathering data */
	struct fb_blockdev *bd; /* from backend->open */
	struct scsi_lu lu;
	int lu_ok;
	int counted; /* counted in stats.sessions */
	/* Replies of reads run on the network thread wait to be sent at the
	 * end of its loop turn (network thread only). */
	struct iscsi_conn *inl_next;
	int inl_mark;
};

struct fb_iscsi_target {
	int lfd, epfd, evfd;
	int port;
	struct fb_iscsi_backend be;
	pthread_t net, login;
	int login_started; /* the login thread was created */
	int login_running; /* ... and takes tasks (under qlock) */
	pthread_t *io;
	int nio;
	struct iscsi_conn *conns;

	pthread_mutex_t qlock; /* the I/O work queue */
	pthread_cond_t qcond;
	struct iscsi_task *qh, *qt;
	unsigned qlen;
	pthread_cond_t lcond; /* the login thread's queue (under qlock) */
	struct iscsi_task *lh, *lt;
	/* Tasks the network thread queued this loop turn (its own). */
	struct iscsi_task *bh, *bt;
	unsigned bn;
	struct iscsi_conn *inl;        /* connections with replies of inline tasks */
	uint64_t inl_writes_off_until; /* monotonic ms: writes not inline till then */
	int stopping;

	/* Connections not yet logged in (network thread), the caps on them,
	 * and the rate-limited log of connections refused over a cap. */
	unsigned prelogin, prelogin_per_address, prelogin_max;
	uint64_t over_cap, over_cap_logged_ms;

	pthread_mutex_t tsih_lock;
	uint16_t next_tsih;
	atomic_uint sessions;
	atomic_ullong bytes_read, bytes_written;
};

/* iscsi_target.c */
/* Queue a built PDU (or several) for sending; takes conn->lock itself
 * unless locked says the caller holds it. */
void iscsi_conn_send(struct iscsi_conn *c, struct iscsi_out *o, int locked);
/* Queue output without sending (conn->lock held); iscsi_conn_flush sends. */
void iscsi_conn_enqueue(struct iscsi_conn *c, struct iscsi_out *o);
void iscsi_conn_flush(struct iscsi_conn *c);
/* Re-evaluate paused input after tasks went away; conn->lock held. */
void iscsi_conn_kick(struct iscsi_conn *c);
/* Wake the network thread: it closes connections, resumes paused input
 * and finishes logins. Any thread. */
void iscsi_wake(struct fb_iscsi_target *t);
struct iscsi_out *iscsi_out_new(size_t len);
void iscsi_out_free(struct iscsi_out *o);
void iscsi_conn_unref(struct iscsi_conn *c);
/* Has the connection's socket been shut down? (Takes conn->lock.) */
int iscsi_conn_dead(struct iscsi_conn *c);
void iscsi_queue_task(struct iscsi_task *task);
/* Hand the tasks queued since the last call to the I/O threads, and send
 * the replies of reads run on the network thread (iscsi_inline_flush). */
void iscsi_dispatch(struct fb_iscsi_target *t);
void iscsi_inline_flush(struct fb_iscsi_target *t);
/* Find another logged-in connection with the same initiator and ISID
 * (session reinstatement) and close it. */
void iscsi_conn_reinstate(struct iscsi_conn *c);

/* The login job ended (conn->lock held; network thread): take on the
 * phase it decided and, if it completed a login, end the older sessions
 * it replaces (the lock is let go meanwhile). */
void iscsi_login_finish(struct iscsi_conn *c);

/* iscsi_login.c */
/* Handle a Login Request (phase PH_LOGIN). 0, or -1 to close now. The
 * phase it moves to is left in login_next for iscsi_login_finish. */
int iscsi_login_pdu(struct iscsi_conn *c, const struct iscsi_bhs *h, uint8_t *data, size_t dlen);
/* Run iscsi_login_pdu on the Login Request in c->bhs and c->body (the
 * login thread, the task's reference held), then ask the network thread
 * to finish it and read on. Frees the task. */
void iscsi_login_job(struct iscsi_task *task);
/* Handle a Text Request in full feature phase. */
int iscsi_text_pdu(struct iscsi_conn *c, const struct iscsi_bhs *h, uint8_t *data, size_t dlen);

/* iscsi_session.c */
/* Handle one PDU in full feature phase. 0, or -1 to close the connection. */
int iscsi_ffp_pdu(struct iscsi_conn *c, const struct iscsi_bhs *h, uint8_t *body, size_t blen);
/* Where a Data-Out's payload belongs, if it will be accepted as is
 * (network thread, header just parsed); NULL to receive it normally. */
uint8_t *iscsi_data_out_dest(struct iscsi_conn *c, const struct iscsi_bhs *h);
/* Size to allocate for a PDU body of len bytes: a write command's body
 * gets room for its whole data so the task can adopt it. */
size_t iscsi_cmd_buffer_size(struct iscsi_conn *c, const struct iscsi_bhs *h, size_t len);
/* Run a queued task (I/O thread) and queue its response; send it now
 * unless defer_flush (the caller then calls iscsi_conn_flush). With
 * nowait (network thread), only a READ whose data is in memory runs:
 * returns 0, the task untouched, where it would have to wait. */
int iscsi_task_run(struct iscsi_task *task, int defer_flush, int nowait);
/* Free tasks still collecting data and held PDUs (connection closing). */
void iscsi_session_cleanup(struct iscsi_conn *c);
/* Build a Reject PDU quoting header hdr. */
void iscsi_send_reject(struct iscsi_conn *c, uint8_t reason, const uint8_t *hdr);
/* Fill ExpCmdSN/MaxCmdSN (and StatSN if advance >= 0) into a target PDU
 * header at p; caller holds conn->lock. advance: 1 = take a StatSN,
 * 0 = current StatSN without advancing, -1 = leave StatSN alone. */
void iscsi_stamp(struct iscsi_conn *c, uint8_t *p, int advance);
/* Stamp the single PDU in o (as iscsi_stamp) and send it; takes
 * conn->lock. */
void iscsi_send_stamped(struct iscsi_conn *c, struct iscsi_out *o, int advance);

#endif
