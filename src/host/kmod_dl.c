/* libkmod, loaded on first use.
 *
 * Debian's libkmod links libcrypto (for module signatures), liblzma and
 * libzstd: about 1.7 MB of resident memory and a millisecond of start-up
 * in every process, although only `gim`, `bind` and `check` ever call it.
 * The program is therefore not linked with -lkmod; these definitions of
 * the libkmod calls it makes load the library the first time one of them
 * runs and forward to it.
 *
 * A libkmod call that is not listed here fails to link (undefined
 * reference): add one line to KMOD_CALLS with the prototype from
 * <libkmod.h>. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libkmod.h>

#define KMOD_SONAME "libkmod.so.2"

typedef void (*log_fn_t)(void *log_data, int priority, const char *file, int line,
                         const char *fn, const char *format, va_list args);
typedef int (*run_install_t)(struct kmod_module *m, const char *cmdline, void *data);
typedef void (*print_action_t)(struct kmod_module *m, bool install, const char *options);

/* X(return type, name, parameters, arguments, value when libkmod is missing)
 * V(name, parameters, arguments) for calls without a result.  Only
 * kmod_new can be reached without the library: everything else needs an
 * object it made. */
#define KMOD_CALLS(X, V) \
	X(struct kmod_ctx *, kmod_new, (const char *dirname, const char *const *config_paths), \
	  (dirname, config_paths), NULL) \
	X(struct kmod_ctx *, kmod_unref, (struct kmod_ctx *ctx), (ctx), NULL) \
	V(kmod_set_log_fn, (struct kmod_ctx *ctx, log_fn_t log_fn, const void *data), \
	  (ctx, log_fn, data)) \
	X(struct kmod_list *, kmod_list_next, \
	  (const struct kmod_list *list, const struct kmod_list *curr), (list, curr), NULL) \
	X(struct kmod_config_iter *, kmod_config_get_blacklists, (const struct kmod_ctx *ctx), \
	  (ctx), NULL) \
	X(struct kmod_config_iter *, kmod_config_get_install_commands, \
	  (const struct kmod_ctx *ctx), (ctx), NULL) \
	V(kmod_config_iter_free_iter, (struct kmod_config_iter *iter), (iter)) \
	X(const char *, kmod_config_iter_get_key, (const struct kmod_config_iter *iter), (iter), \
	  NULL) \
	X(const char *, kmod_config_iter_get_value, (const struct kmod_config_iter *iter), \
	  (iter), NULL) \
	X(bool, kmod_config_iter_next, (struct kmod_config_iter *iter), (iter), false) \
	X(int, kmod_module_new_from_name, \
	  (struct kmod_ctx *ctx, const char *name, struct kmod_module **mod), (ctx, name, mod), \
	  -ELIBACC) \
	X(int, kmod_module_new_from_name_lookup, \
	  (struct kmod_ctx *ctx, const char *modname, struct kmod_module **mod), \
	  (ctx, modname, mod), -ELIBACC) \
	X(int, kmod_module_new_from_path, \
	  (struct kmod_ctx *ctx, const char *path, struct kmod_module **mod), (ctx, path, mod), \
	  -ELIBACC) \
	X(int, kmod_module_new_from_lookup, \
	  (struct kmod_ctx *ctx, const char *given_alias, struct kmod_list **list), \
	  (ctx, given_alias, list), -ELIBACC) \
	X(struct kmod_module *, kmod_module_unref, (struct kmod_module *mod), (mod), NULL) \
	X(int, kmod_module_unref_list, (struct kmod_list *list), (list), -ELIBACC) \
	X(struct kmod_module *, kmod_module_get_module, (const struct kmod_list *entry), (entry), \
	  NULL) \
	X(const char *, kmod_module_get_path, (const struct kmod_module *mod), (mod), NULL) \
	X(const char *, kmod_module_get_name, (const struct kmod_module *mod), (mod), NULL) \
	X(int, kmod_module_get_info, (const struct kmod_module *mod, struct kmod_list **list), \
	  (mod, list), -ELIBACC) \
	X(const char *, kmod_module_info_get_key, (const struct kmod_list *entry), (entry), NULL) \
	X(const char *, kmod_module_info_get_value, (const struct kmod_list *entry), (entry), \
	  NULL) \
	V(kmod_module_info_free_list, (struct kmod_list *list), (list)) \
	X(int, kmod_module_insert_module, \
	  (struct kmod_module *mod, unsigned int flags, const char *options), \
	  (mod, flags, options), -ELIBACC) \
	X(int, kmod_module_probe_insert_module, \
	  (struct kmod_module *mod, unsigned int flags, const char *extra_options, \
	   run_install_t run_install, const void *data, print_action_t print_action), \
	  (mod, flags, extra_options, run_install, data, print_action), -ELIBACC) \
	X(int, kmod_module_remove_module, (struct kmod_module *mod, unsigned int flags), \
	  (mod, flags), -ELIBACC)

#define FIELD(ret, name, params, args, fail) ret (*name) params;
#define VFIELD(name, params, args) void (*name) params;
static struct {
	KMOD_CALLS(FIELD, VFIELD)
} lib;

#define NAME(ret, name, params, args, fail) #name,
#define VNAME(name, params, args) #name,
static const char *const names[] = { KMOD_CALLS(NAME, VNAME) };

static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen(KMOD_SONAME, RTLD_NOW | RTLD_LOCAL);
	void *syms[sizeof(names) / sizeof(names[0])];

	if (!h) {
		const char *e = dlerror();
		fprintf(stderr, "amdvirt: cannot load %s (Debian: apt install libkmod2): %s\n",
		        KMOD_SONAME, e ? e : "unknown error");
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(syms[i] = dlsym(h, names[i]))) {
			fprintf(stderr, "amdvirt: %s has no %s: too old for amdvirt\n", KMOD_SONAME,
			        names[i]);
			dlclose(h);
			return;
		}
	}
	/* The fields are function pointers in the order of names[], each the
	 * size of a data pointer on every platform dlsym serves. */
	_Static_assert(sizeof(lib) == sizeof(syms), "one pointer per call");
	memcpy(&lib, syms, sizeof(lib));
	loaded = true;
}

static bool ready(void)
{
	pthread_once(&once, load);
	if (!loaded)
		errno = ELIBACC;
	return loaded;
}

#define STUB(ret, name, params, args, fail) \
	ret name params \
	{ \
		return ready() ? lib.name args : fail; \
	}
#define VSTUB(name, params, args) \
	void name params \
	{ \
		if (ready()) \
			lib.name args; \
	}
KMOD_CALLS(STUB, VSTUB)
