/* Reading one function's details; the parsing is pcires.c's. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/details.h"
#include "base/util.h"

#define RESOURCE_MAX_BYTES 4096

static void dev_path(char *buf, size_t size, const char *bdf, const char *attr)
{
	snprintf(buf, size, "/sys/bus/pci/devices/%s/%s", bdf, attr);
}

static void read_resources(const struct av_host *host, const char *bdf, struct av_func_details *out)
{
	char path[96], *text = NULL;
	dev_path(path, sizeof(path), bdf, "resource");
	ssize_t r = av_read_all(host, path, RESOURCE_MAX_BYTES, &text);
	if (r < 0) {
		out->res_err = (int)r;
		return;
	}
	int n = av_resource_parse(text, out->res, AV_RES_MAX, &out->res_bad_line);
	free(text);
	if (n < 0)
		out->res_err = n;
	else
		out->n_res = n;
}

/* "32.0 GT/s PCIe" -> 32.0; "Unknown" (VFs, links down) -> 0. */
static double speed_gts(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	return end != s && v > 0 ? v : 0;
}

static void read_link(const struct av_host *host, const char *bdf, struct av_link *l)
{
	char path[96];
	long v;
	dev_path(path, sizeof(path), bdf, "current_link_speed");
	if (av_read_text(host, path, l->speed, sizeof(l->speed)) < 0)
		l->speed[0] = '\0';
	dev_path(path, sizeof(path), bdf, "max_link_speed");
	if (av_read_text(host, path, l->max_speed, sizeof(l->max_speed)) < 0)
		l->max_speed[0] = '\0';
	l->gts = speed_gts(l->speed);
	l->max_gts = speed_gts(l->max_speed);
	dev_path(path, sizeof(path), bdf, "current_link_width");
	l->width = av_read_long(host, path, 10, &v) == 0 && v >= 0 && v <= 64 ? (int)v : -1;
	dev_path(path, sizeof(path), bdf, "max_link_width");
	l->max_width = av_read_long(host, path, 10, &v) == 0 && v >= 0 && v <= 64 ? (int)v : -1;
}

int av_func_details(const struct av_host *host, const char *bdf, struct av_func_details *out)
{
	char path[96];
	memset(out, 0, sizeof(*out));
	if (!av_bdf_valid(bdf))
		return -EINVAL;
	dev_path(path, sizeof(path), bdf, "");
	if (!av_is_dir(host, path))
		return -ENOENT;
	read_resources(host, bdf, out);
	read_link(host, bdf, &out->link);
	dev_path(path, sizeof(path), bdf, "reset_method");
	ssize_t r = av_read_text(host, path, out->reset_method, sizeof(out->reset_method));
	if (r < 0) {
		out->reset_method[0] = '\0';
		out->reset_err = (int)r;
	}
	return 0;
}

bool av_link_known(const struct av_link *l)
{
	return l->gts > 0 && l->max_gts > 0 && l->width > 0 && l->max_width > 0;
}

bool av_link_degraded(const struct av_link *l)
{
	return av_link_known(l) && (l->gts < l->max_gts || l->width < l->max_width);
}
