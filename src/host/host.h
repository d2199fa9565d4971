/* Host access: every path the program touches is ROOT + a host path.
 *
 * Paths passed to these functions are host paths ("/sys/bus/pci/devices");
 * they are resolved relative to a directory descriptor held open on ROOT, so
 * a fake host built by the test suite and the real host are read by the same
 * code.  Symlinks and ".." resolve inside ROOT (absolute links from ROOT, as
 * on the host it is): nothing here reads or writes outside it.  Reads refuse
 * what is not a regular file (-EISDIR, -AV_ENOTREG: a FIFO would block).
 * Functions return >= 0 on success and -errno on failure. */
#ifndef AV_HOST_H
#define AV_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <dirent.h>

struct av_host;

/* Writes go through this hook so the test suite can apply the kernel's
 * semantics (a write to drivers_probe moves a driver link) to a fake tree.
 * The default writes the file.  Returns 0 or -errno. */
typedef int (*av_write_hook)(struct av_host *host, const char *path,
                             const char *data, size_t len, void *user);

/* Opens ROOT ("/" for the running host).  On failure returns NULL and, when
 * cause is not NULL, sets *cause to an allocated message. */
struct av_host *av_host_open(const char *root, char **cause);
void av_host_free(struct av_host *host);

const char *av_host_root(const struct av_host *host);
bool av_host_is_real_root(const struct av_host *host);
int av_host_rootfd(const struct av_host *host);
void av_host_set_write_hook(struct av_host *host, av_write_hook hook, void *user);

/* ROOT + path in buf (for messages and for libraries that want a path).
 * Returns buf; the result is truncated (and still terminated) if too long. */
char *av_host_path(const struct av_host *host, const char *path, char *buf, size_t size);

/* Reads at most size-1 bytes, NUL-terminates, strips one trailing newline.
 * Returns the length or -errno. */
ssize_t av_read_text(const struct av_host *host, const char *path, char *buf, size_t size);
/* Reads up to size bytes of a binary file.  Returns the length or -errno. */
ssize_t av_read_bin(const struct av_host *host, const char *path, void *buf, size_t size);
/* Reads a whole file into an allocated, NUL-terminated buffer (max_size cap).
 * Returns the length or -errno; *out is NULL on failure. */
ssize_t av_read_all(const struct av_host *host, const char *path, size_t max_size, char **out);
/* Parses a sysfs integer file ("0x1002", "12", "-1").  Returns 0, -errno, or
 * -EINVAL when the content is not a number. */
int av_read_long(const struct av_host *host, const char *path, int base, long *out);
/* readlink relative to ROOT; the target as stored.  Returns length or -errno. */
ssize_t av_read_link(const struct av_host *host, const char *path, char *buf, size_t size);
/* Basename of a symlink's target ("../../bus/pci/drivers/vfio-pci" -> "vfio-pci"). */
ssize_t av_read_link_base(const struct av_host *host, const char *path, char *buf, size_t size);
bool av_exists(const struct av_host *host, const char *path);
bool av_is_dir(const struct av_host *host, const char *path);
/* mtime in seconds, or -errno. */
long long av_mtime(const struct av_host *host, const char *path);
DIR *av_opendir(const struct av_host *host, const char *path);

/* Writes data to an existing regular file (sysfs attribute semantics: one
 * write); a symlink as the last component is refused (-ELOOP).  Goes
 * through the write hook.  Returns 0 or -errno. */
int av_write(struct av_host *host, const char *path, const char *data);
/* Creates or replaces a regular file atomically (a temporary file of a
 * random name made with O_EXCL|O_NOFOLLOW, fsync, rename), creating missing
 * parent directories with mode 0755.  Returns 0 or -errno. */
int av_write_atomic(struct av_host *host, const char *path, const char *data, size_t len);
/* Removes a file; an absent one is not an error.  Returns 0 or -errno. */
int av_unlink(struct av_host *host, const char *path);
/* Opens a host path for the caller (O_CLOEXEC added).  Returns fd or -errno. */
int av_open(const struct av_host *host, const char *path, int flags, int mode);
/* Opens a regular file, creating it (and its parent directories, 0755) when
 * missing.  Returns fd or -errno. */
int av_open_create(struct av_host *host, const char *path, int flags, int mode);
/* An O_PATH descriptor on a directory, made (with its parents, 0755) when
 * create is set.  Returns fd or -errno. */
int av_open_dir(const struct av_host *host, const char *path, bool create);

#endif
