/*
 * Request bodies as JSON objects (req_json_body, server_int.h): the one parser every route
 * with a body uses, so that no route takes a field it did not name (Z6: no mass assignment)
 * or a value of another type than it expects.
 */
#include <jansson.h>
#include <string.h>

#include "server/server_int.h"
#include "util/error.h"

static const char *const type_names[] = {
	[REQ_STRING] = "a string", [REQ_BOOL] = "true or false", [REQ_INT] = "an integer",
	[REQ_ARRAY] = "an array",  [REQ_OBJECT] = "an object",
};

static bool has_type(const json_t *v, enum req_ftype t)
{
	switch (t) {
	case REQ_STRING: return json_is_string(v);
	case REQ_BOOL: return json_is_boolean(v);
	case REQ_INT: return json_is_integer(v);
	case REQ_ARRAY: return json_is_array(v);
	case REQ_OBJECT: return json_is_object(v);
	}
	return false;
}

static const struct req_field *field_find(const struct req_field *fields, size_t n,
					  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/* Every member is a known field of its type, and every required field is there. */
static int check_fields(const json_t *o, const struct req_field *fields, size_t n)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		const struct req_field *f = field_find(fields, n, key);

		if (!f) {
			error_set("unknown field \"%.64s\" in the request body", key);
			return TRAWL_EINVAL;
		}
		if (!has_type(v, f->type)) {
			error_set("the field \"%s\" must be %s", f->name, type_names[f->type]);
			return TRAWL_EINVAL;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (fields[i].is_required && !json_object_get(o, fields[i].name)) {
			error_set("the field \"%s\" is required", fields[i].name);
			return TRAWL_EINVAL;
		}
	return 0;
}

int req_json_body(struct json_t **out, const struct req *rq, const struct req_field *fields,
		  size_t n)
{
	json_error_t je;
	json_t *o;
	int err;

	*out = NULL;
	if (rq->in_body.len == 0) {
		error_set("this route needs a JSON object as its request body");
		return TRAWL_EINVAL;
	}
	/* SECURITY: a key given twice is one request read two ways: refused. */
	o = json_loadb(rq->in_body.ptr, rq->in_body.len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		error_set("the request body is not valid JSON (at byte %d)", je.position);
		return TRAWL_EINVAL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		error_set("the request body must be a JSON object");
		return TRAWL_EINVAL;
	}
	if ((err = check_fields(o, fields, n)) < 0) {
		json_decref(o);
		return err;
	}
	*out = o;
	return 0;
}

const char *req_body_str(const json_t *o, const char *key, size_t *len)
{
	const json_t *v = json_object_get(o, key);

	if (len)
		*len = v ? json_string_length(v) : 0;
	return v ? json_string_value(v) : NULL;
}
