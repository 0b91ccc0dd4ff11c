/* Typed field readers for the spec parser: each names the full field path on error.  */
#ifndef BL_SPEC_FIELDS_H
#define BL_SPEC_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "json.h"

/* Each reader: absent field → returns 0 and leaves *out unchanged unless `required`
   (then fails "<prefix>.<key>: missing"); wrong type → fails naming the field.  */
int bl_field_str (const struct bl_json *obj, const char *prefix, const char *key, bool required,
                  char **out, struct bl_error *err);
int bl_field_bool (const struct bl_json *obj, const char *prefix, const char *key, bool *out,
                   struct bl_error *err);
int bl_field_u64 (const struct bl_json *obj, const char *prefix, const char *key, bool required,
                  uint64_t *out, struct bl_error *err);
int bl_field_i64 (const struct bl_json *obj, const char *prefix, const char *key, int64_t *out,
                  struct bl_error *err);
/* A string array into a new NULL-terminated vector; *n gets the count when n != NULL.  */
int bl_field_strv (const struct bl_json *obj, const char *prefix, const char *key, bool required,
                   char ***out, size_t *n, struct bl_error *err);
/* The member, checked to be of type `t` (or absent → *out NULL, unless required).  */
int bl_field_typed (const struct bl_json *obj, const char *prefix, const char *key,
                    enum bl_json_type t, bool required, const struct bl_json **out,
                    struct bl_error *err);

void bl_strv_free (char **v);

#endif
