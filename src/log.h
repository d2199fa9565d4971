/* Daemon log: one line per event on stderr, "amdvirt: " first, so that
 * kubectl logs and journald show what happened and when without decoration
 * from us (both add their own timestamps). */
#ifndef AV_LOG_H
#define AV_LOG_H

void av_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
