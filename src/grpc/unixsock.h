/* AF_UNIX stream sockets named by a directory descriptor and a file name.
 *
 * sun_path holds 107 bytes; a fake host root in a deep build directory
 * easily exceeds that, so a path that does not fit is reached through
 * /proc/self/fd/<dirfd>/<name> instead. */
#ifndef AV_GRPC_UNIXSOCK_H
#define AV_GRPC_UNIXSOCK_H

/* The listening socket's mode: kubelet runs as root, and nobody else has
 * any business on the device plugin API. */
#define AV_UNIX_MODE 0600

/* Removes a stale file at name, binds, sets the mode AV_UNIX_MODE and
 * listens.  dir is the directory's
 * path (for sun_path and messages).  Returns a non-blocking, close-on-exec
 * listening descriptor or -errno. */
int av_unix_listen(int dirfd, const char *dir, const char *name);
/* Connects a non-blocking socket.  Returns the descriptor or
 * -errno (-ENOENT, -ECONNREFUSED when nobody listens). */
int av_unix_connect(int dirfd, const char *dir, const char *name);

#endif
