/* Preloaded into sge_qmaster and sge_execd, which have no listen-address setting: a bind()
 * to the wildcard address (IPv4 or IPv6) is turned into a bind() to loopback, so the daemons
 * are reachable from this machine only.
 * Build: gcc -shared -fPIC -O2 -o loopback_bind.so loopback_bind.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    static bind_fn next_bind = 0;
    if (next_bind == 0) next_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
    if (addr != 0 && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in v4;
        memcpy(&v4, addr, sizeof v4);
        if (v4.sin_addr.s_addr == htonl(INADDR_ANY)) {
            v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return next_bind(fd, (const struct sockaddr *)&v4, sizeof v4);
        }
    }
    if (addr != 0 && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 v6;
        memcpy(&v6, addr, sizeof v6);
        if (IN6_IS_ADDR_UNSPECIFIED(&v6.sin6_addr)) {
            v6.sin6_addr = in6addr_loopback;
            return next_bind(fd, (const struct sockaddr *)&v6, sizeof v6);
        }
    }
    return next_bind(fd, addr, len);
}
