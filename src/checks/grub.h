/* Boot loader configuration: /etc/default/grub (a shell fragment), BLS
 * entries and grubenv.  Pure functions over file contents. */
#ifndef AV_GRUB_H
#define AV_GRUB_H

/* Shell variables assigned by a sourced file. */
struct av_shvars {
	char **name;
	char **value;
	int n;
};

/* Applies the assignments in text to vars, as `. FILE` would for the
 * simple shell the GRUB files use: NAME=word, export NAME=word, NAME+=word;
 * words with '...', "..." and backslash quoting; $NAME and ${NAME}
 * expanded from vars (unset: empty).  Other statements are ignored.
 * Returns 0, -ENOMEM, or -EINVAL with *bad_line set to the 1-based line
 * where an unterminated quote starts (assignments before it are kept). */
int av_grub_source(const char *text, struct av_shvars *vars, int *bad_line);
const char *av_shvars_get(const struct av_shvars *vars, const char *name);
void av_shvars_free(struct av_shvars *vars);

/* A Boot Loader Specification entry (/boot/loader/entries/NAME.conf). */
struct av_bls_entry {
	char *title, *version, *linux_path, *options;
};

/* Parses an entry; "options" lines are joined with a blank.  Returns 0 or
 * -ENOMEM. */
int av_bls_parse(const char *text, struct av_bls_entry *out);
void av_bls_free(struct av_bls_entry *e);

/* The value of key in a grubenv block ("kernelopts=..."), allocated, or
 * NULL when absent. */
char *av_grubenv_get(const char *text, const char *key);

/* Replaces $name / ${name} in s using lookup (unknown: empty).  Allocated
 * result or NULL on allocation failure. */
char *av_expand_vars(const char *s, const char *(*lookup)(const char *name, void *user), void *user);

#endif
