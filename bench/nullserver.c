/* The null DynamoDB responder of bench/nullserver.py, in C, for bench/distributed.py.

   On a 2-core machine the distributed benchmark's responder shares the cores with the
   workers it answers, so its cost per request comes out of theirs; the real target runs on
   other machines. The Python responder costs ~25 us of CPU per request (about half of it
   the interpreter); this one only the kernel's share. Same answers, same coalescing:
   requests are answered in rounds, a round's answers written together, then a pause of
   COALESCE_US in which the next requests gather.

       cc -O2 -o nullserver bench/nullserver.c
       ./nullserver COALESCE_US OP=ANSWER_FILE... ("*" = any other operation)

   Each ANSWER_FILE holds one whole HTTP response (bench/nullserver.py's Answer.wire). Listens
   on 127.0.0.1, a free port, and prints {"url": "http://127.0.0.1:PORT"} once it serves.
   Requests are framed by Content-Length; a chunked or oversized request closes the
   connection. Delayed or missing answers (nullserver.py's delay_s) are not supported. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST 65536
#define MAX_ANSWERS 32
#define MAX_EVENTS 256

struct answer { char op[64]; char *wire; size_t len; };
struct conn { int fd; size_t in_len, out_len, out_cap; char *out; int dirty; char in[MAX_REQUEST]; };

static struct answer answers[MAX_ANSWERS];
static int n_answers;
static struct conn **dirty;
static size_t n_dirty, dirty_cap;

static void die(const char *what) { perror(what); exit(2); }

static void load_answer(const char *arg) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof answers[0].op || n_answers == MAX_ANSWERS) {
        fprintf(stderr, "nullserver: expected OP=ANSWER_FILE, got %s\n", arg);
        exit(2);
    }
    struct answer *a = &answers[n_answers++];
    memcpy(a->op, arg, (size_t)(eq - arg));
    FILE *f = fopen(eq + 1, "rb");
    if (!f) die(eq + 1);
    fseek(f, 0, SEEK_END);
    a->len = (size_t)ftell(f);
    rewind(f);
    a->wire = malloc(a->len);
    if (!a->wire || fread(a->wire, 1, a->len, f) != a->len) die(eq + 1);
    fclose(f);
}

/* The value of header `name` (with its colon) in head[0, len), case-insensitively; NULL if absent. */
static const char *header(const char *head, size_t len, const char *name, size_t *value_len) {
    size_t n = strlen(name);
    const char *end = head + len;
    for (const char *line = memchr(head, '\n', len); line && line + 1 + n <= end;
         line = memchr(line + 1, '\n', (size_t)(end - line - 1))) {
        if (strncasecmp(line + 1, name, n) == 0) {
            const char *v = line + 1 + n, *stop = memchr(v, '\r', (size_t)(end - v));
            if (!stop) stop = end;
            while (v < stop && *v == ' ') v++;
            *value_len = (size_t)(stop - v);
            return v;
        }
    }
    return NULL;
}

static const struct answer *answer_for(const char *target, size_t len) {
    const char *dot = memrchr(target, '.', len);
    const char *op = dot ? dot + 1 : target;
    size_t op_len = (size_t)(target + len - op);
    const struct answer *fallback = NULL;
    for (int i = 0; i < n_answers; i++) {
        if (strlen(answers[i].op) == op_len && memcmp(answers[i].op, op, op_len) == 0) return &answers[i];
        if (strcmp(answers[i].op, "*") == 0) fallback = &answers[i];
    }
    return fallback;
}

static void queue(struct conn *c, const char *wire, size_t len) {
    if (c->out_len + len > c->out_cap) {
        c->out_cap = (c->out_len + len) * 2;
        c->out = realloc(c->out, c->out_cap);
        if (!c->out) die("realloc");
    }
    memcpy(c->out + c->out_len, wire, len);
    c->out_len += len;
    if (!c->dirty) {
        if (n_dirty == dirty_cap) {
            dirty_cap = dirty_cap ? dirty_cap * 2 : 64;
            dirty = realloc(dirty, dirty_cap * sizeof *dirty);
            if (!dirty) die("realloc");
        }
        dirty[n_dirty++] = c;
        c->dirty = 1;
    }
}

static void drop(int epfd, struct conn *c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1; /* freed after the round's writes: it may be queued */
}

/* Reads what arrived and answers every complete request; 0 when the connection is done. */
static int serve(struct conn *c) {
    for (;;) {
        ssize_t got = recv(c->fd, c->in + c->in_len, MAX_REQUEST - c->in_len, 0);
        if (got == 0) return 0;
        if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
        c->in_len += (size_t)got;
        size_t start = 0;
        for (;;) {
            char *end = memmem(c->in + start, c->in_len - start, "\r\n\r\n", 4);
            if (!end) break;
            size_t head_len = (size_t)(end - (c->in + start)), n;
            const char *v = header(c->in + start, head_len, "transfer-encoding:", &n);
            if (v) return 0;
            size_t body = 0;
            v = header(c->in + start, head_len, "content-length:", &n);
            if (v) body = strtoul(v, NULL, 10);
            size_t total = head_len + 4 + body;
            if (total > MAX_REQUEST) return 0;
            if (start + total > c->in_len) break; /* the body is still coming */
            v = header(c->in + start, head_len, "x-amz-target:", &n);
            const struct answer *a = answer_for(v ? v : "", v ? n : 0);
            if (!a) return 0;
            queue(c, a->wire, a->len);
            start += total;
        }
        memmove(c->in, c->in + start, c->in_len - start);
        c->in_len -= start;
        if (c->in_len == MAX_REQUEST) return 0;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s COALESCE_US OP=ANSWER_FILE...\n", argv[0]);
        return 2;
    }
    long coalesce_us = strtol(argv[1], NULL, 10);
    for (int i = 2; i < argc; i++) load_answer(argv[i]);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 512)) die("listen");
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    int epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, events[MAX_EVENTS];
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev)) die("epoll");
    printf("{\"url\": \"http://127.0.0.1:%d\"}\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct timespec pause = {.tv_sec = coalesce_us / 1000000, .tv_nsec = (coalesce_us % 1000000) * 1000};
    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *fresh = calloc(1, sizeof *fresh);
                    if (!fresh) die("calloc");
                    fresh->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = fresh};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &cev);
                }
            } else if (c->fd >= 0 && !serve(c)) {
                drop(epfd, c);
            }
        }
        /* the round's answers, together: each client finds all of its answers when it wakes */
        for (size_t i = 0; i < n_dirty; i++) {
            struct conn *c = dirty[i];
            if (c->fd >= 0 && send(c->fd, c->out, c->out_len, MSG_NOSIGNAL) != (ssize_t)c->out_len)
                drop(epfd, c); /* a client that does not read its answers is dropped */
            c->out_len = 0;
            c->dirty = 0;
        }
        int answered = n_dirty > 0;
        n_dirty = 0;
        for (int i = 0; i < n; i++) { /* every connection dropped this round had an event */
            struct conn *c = events[i].data.ptr;
            if (c && c->fd < 0) {
                free(c->out);
                free(c);
            }
        }
        if (answered && coalesce_us > 0) nanosleep(&pause, NULL);
    }
}
