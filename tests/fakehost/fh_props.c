/* Device properties: the fields any scenario entry may set on a PCI
 * function (a GPU, its VFs and ports, other endpoints, explicit devices). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"

const char *const fh_prop_keys[] = {
	"vendor", "device", "subsystem_vendor", "subsystem_device", "class", "revision",
	"driver", "driver_override", "group", "group_with", "numa", "enable", "irq",
	"reset_method", "boot_vga", "config_size", "flr", "ari", "acs", "ari_forwarding",
	"link", "msix", "attrs", "multifunction", NULL,
};

static const char *const link_keys[] = { "gen", "width", "max_gen", "max_width", NULL };

int fh_resolve_bdf(struct fh_host *h, const char *bdf, const char *where)
{
	int domain, bus, devfn;

	if (fh_parse_bdf(bdf, &domain, &bus, &devfn) < 0)
		return fh_fail(h, EINVAL, "%s: '%s' is not a BDF (dddd:bb:dd.f)", where,
			       bdf ? bdf : "null");
	for (int i = 0; i < h->n_devs; i++)
		if (h->devs[i].domain == domain && h->devs[i].bus == bus && h->devs[i].devfn == devfn)
			return i;
	return fh_fail(h, ENOENT, "%s: no function %s (yet)", where, bdf);
}

static int ids(struct fh_host *h, struct fh_dev *d, const cJSON *obj, const char *where)
{
	uint32_t v;

	if (fh_get_hex(h, obj, "vendor", where, 0xffff, &v) > 0)
		d->vendor = (uint16_t)v;
	if (fh_get_hex(h, obj, "device", where, 0xffff, &v) > 0)
		d->device = (uint16_t)v;
	if (fh_get_hex(h, obj, "subsystem_vendor", where, 0xffff, &v) > 0)
		d->ss_vendor = (uint16_t)v;
	if (fh_get_hex(h, obj, "subsystem_device", where, 0xffff, &v) > 0)
		d->ss_device = (uint16_t)v;
	if (fh_get_hex(h, obj, "class", where, 0xffffff, &v) > 0)
		d->class_code = v;
	if (fh_get_hex(h, obj, "revision", where, 0xff, &v) > 0)
		d->revision = (uint8_t)v;
	return h->cause ? -h->err : 0;
}

static int strings(struct fh_host *h, struct fh_dev *d, const cJSON *obj, const char *where)
{
	const char *s;

	if (fh_get_str(h, obj, "driver", where, &s) > 0) {
		free(d->driver);
		d->driver = s && *s ? fh_strdup(s) : NULL;
	}
	if (fh_get_str(h, obj, "driver_override", where, &s) > 0) {
		free(d->driver_override);
		d->driver_override = fh_strdup(s);
	}
	if (fh_get_str(h, obj, "reset_method", where, &s) > 0) {
		free(d->reset_method);
		d->reset_method = fh_strdup(s ? s : "");
	}
	if (fh_get_str(h, obj, "group_with", where, &s) > 0) {
		char w[300];

		snprintf(w, sizeof(w), "%s.group_with", where);
		d->group_with = s ? fh_resolve_bdf(h, s, w) : -1;
	}
	return h->cause ? -h->err : 0;
}

static int numbers(struct fh_host *h, struct fh_dev *d, const cJSON *obj, const char *where)
{
	const cJSON *g = fh_get(obj, "group");
	bool b;

	if (g && cJSON_IsNull(g))
		d->group = -1;
	else
		fh_get_int(h, obj, "group", where, 0, 1 << 20, &d->group);
	fh_get_int(h, obj, "numa", where, -1, 7, &d->numa);
	fh_get_int(h, obj, "enable", where, 0, 1 << 20, &d->enable);
	fh_get_int(h, obj, "irq", where, 0, 1 << 20, &d->irq);
	fh_get_int(h, obj, "config_size", where, 0, 4096, &d->config_size);
	if (fh_get_bool(h, obj, "boot_vga", where, &b) > 0)
		d->boot_vga = b;
	fh_get_bool(h, obj, "flr", where, &d->flr);
	fh_get_bool(h, obj, "ari", where, &d->ari);
	fh_get_bool(h, obj, "msix", where, &d->msix);
	fh_get_bool(h, obj, "multifunction", where, &d->multifunction);
	return h->cause ? -h->err : 0;
}

/* acs: true, false (no capability) or "off" (capability, nothing enabled).
 * ari_forwarding: true, false or "supported" (capable, not enabled). */
static int port_bits(struct fh_host *h, struct fh_dev *d, const cJSON *obj, const char *where)
{
	const cJSON *v = fh_get(obj, "acs");

	if (v) {
		if (cJSON_IsBool(v))
			d->acs = cJSON_IsTrue(v) ? 1 : 0;
		else if (cJSON_IsString(v) && strcmp(v->valuestring, "off") == 0)
			d->acs = 2;
		else
			return fh_fail(h, EINVAL, "%s.acs: expected true, false or \"off\"", where);
	}
	v = fh_get(obj, "ari_forwarding");
	if (v) {
		if (cJSON_IsBool(v))
			d->ari_fwd = cJSON_IsTrue(v) ? 2 : 0;
		else if (cJSON_IsString(v) && strcmp(v->valuestring, "supported") == 0)
			d->ari_fwd = 1;
		else
			return fh_fail(h, EINVAL,
				       "%s.ari_forwarding: expected true, false or \"supported\"", where);
	}
	return 0;
}

static int link(struct fh_host *h, struct fh_dev *d, const cJSON *obj, const char *where)
{
	const cJSON *l = fh_get(obj, "link");
	char w[300];

	if (!l)
		return 0;
	snprintf(w, sizeof(w), "%s.link", where);
	if (fh_keys(h, l, w, link_keys) < 0)
		return -h->err;
	fh_get_int(h, l, "gen", w, 0, 6, &d->link_speed);
	fh_get_int(h, l, "width", w, 0, 32, &d->link_width);
	fh_get_int(h, l, "max_gen", w, 0, 6, &d->max_speed);
	fh_get_int(h, l, "max_width", w, 0, 32, &d->max_width);
	return h->cause ? -h->err : 0;
}

static int attrs(struct fh_host *h, struct fh_dev *d, const cJSON *obj, const char *where)
{
	const cJSON *a = fh_get(obj, "attrs"), *it;

	if (!a)
		return 0;
	if (!cJSON_IsObject(a))
		return fh_fail(h, EINVAL, "%s.attrs: expected an object", where);
	cJSON_ArrayForEach(it, a) {
		if (!cJSON_IsString(it) && !cJSON_IsNull(it))
			return fh_fail(h, EINVAL, "%s.attrs.%s: expected a string or null", where,
				       it->string);
		if (!it->string[0] || it->string[0] == '/' || strstr(it->string, ".."))
			return fh_fail(h, EINVAL, "%s.attrs.%s: expected a path inside the device",
				       where, it->string);
	}
	/* Later entries (an override after its defaults) win, so keep a list. */
	if (d->attrs && d->attrs != a) {
		cJSON *merged = cJSON_Duplicate(d->attrs, 1);

		cJSON_ArrayForEach(it, a) {
			cJSON_DeleteItemFromObjectCaseSensitive(merged, it->string);
			cJSON_AddItemToObject(merged, it->string, cJSON_Duplicate(it, 1));
		}
		cJSON_AddItemToArray(h->owned, merged);
		d->attrs = merged;
	} else {
		d->attrs = a;
	}
	return 0;
}

int fh_apply_props(struct fh_host *h, struct fh_dev *d, const cJSON *obj, const char *where,
                   bool allow_extra)
{
	int i = (int)(d - h->devs);

	if (!obj)
		return 0;
	if (!allow_extra && fh_keys(h, obj, where, fh_prop_keys) < 0)
		return -h->err;
	/* group_with may look devices up: h->devs must not move meanwhile, and
	 * it does not, as nothing here creates a device. */
	if (ids(h, d, obj, where) < 0 || strings(h, d, obj, where) < 0 ||
	    numbers(h, d, obj, where) < 0 || port_bits(h, d, obj, where) < 0 ||
	    link(h, d, obj, where) < 0 || attrs(h, d, obj, where) < 0)
		return -h->err;
	if (d->group_with == i)
		d->group_with = -1;
	return 0;
}
