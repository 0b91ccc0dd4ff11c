/* Typed field readers used by the spec parser.  */
#include "spec-fields.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int
bl_field_typed (const struct bl_json *obj, const char *prefix, const char *key,
                enum bl_json_type t, bool required, const struct bl_json **out,
                struct bl_error *err)
{
  const struct bl_json *v = bl_json_get (obj, key);
  *out = NULL;
  if (v == NULL || (v->type == BL_JSON_NULL && !required))
    return required ? bl_fail (err, 0, "%s%s%s: missing", prefix, *prefix ? "." : "", key) : 0;
  if (v->type != t)
    return bl_fail (err, 0, "%s%s%s: expected %s, got %s", prefix, *prefix ? "." : "", key,
                    bl_json_type_name (t), bl_json_type_name (v->type));
  *out = v;
  return 0;
}

int
bl_field_str (const struct bl_json *obj, const char *prefix, const char *key, bool required,
              char **out, struct bl_error *err)
{
  const struct bl_json *v;
  if (bl_field_typed (obj, prefix, key, BL_JSON_STRING, required, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  *out = strdup (v->str);
  return *out ? 0 : bl_fail (err, ENOMEM, "strdup");
}

int
bl_field_bool (const struct bl_json *obj, const char *prefix, const char *key, bool *out,
               struct bl_error *err)
{
  const struct bl_json *v;
  if (bl_field_typed (obj, prefix, key, BL_JSON_BOOL, false, &v, err) < 0)
    return -1;
  if (v)
    *out = v->boolean;
  return 0;
}

/* Parses a JSON number's text as a base-10 integer.  */
static int
parse_int (const struct bl_json *v, bool is_signed, int64_t *si, uint64_t *ui)
{
  char *end;
  errno = 0;
  if (is_signed)
    *si = strtoll (v->str, &end, 10);
  else
    {
      if (v->str[0] == '-')
        return -1;
      *ui = strtoull (v->str, &end, 10);
    }
  return (errno || *end) ? -1 : 0;
}

int
bl_field_u64 (const struct bl_json *obj, const char *prefix, const char *key, bool required,
              uint64_t *out, struct bl_error *err)
{
  const struct bl_json *v;
  int64_t si;
  if (bl_field_typed (obj, prefix, key, BL_JSON_NUMBER, required, &v, err) < 0)
    return -1;
  if (v && parse_int (v, false, &si, out) < 0)
    return bl_fail (err, 0, "%s.%s: expected a non-negative integer, got %s", prefix, key, v->str);
  return 0;
}

int
bl_field_i64 (const struct bl_json *obj, const char *prefix, const char *key, int64_t *out,
              struct bl_error *err)
{
  const struct bl_json *v;
  uint64_t ui;
  if (bl_field_typed (obj, prefix, key, BL_JSON_NUMBER, false, &v, err) < 0)
    return -1;
  if (v && parse_int (v, true, out, &ui) < 0)
    return bl_fail (err, 0, "%s.%s: expected an integer, got %s", prefix, key, v->str);
  return 0;
}

int
bl_field_strv (const struct bl_json *obj, const char *prefix, const char *key, bool required,
               char ***out, size_t *n, struct bl_error *err)
{
  const struct bl_json *v;
  char **vec;
  if (bl_field_typed (obj, prefix, key, BL_JSON_ARRAY, required, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  vec = calloc (v->n + 1, sizeof *vec);
  if (vec == NULL)
    return bl_fail (err, ENOMEM, "calloc");
  for (size_t i = 0; i < v->n; i++)
    {
      if (v->items[i]->type != BL_JSON_STRING)
        {
          bl_strv_free (vec);
          return bl_fail (err, 0, "%s.%s[%zu]: expected string, got %s", prefix, key, i,
                          bl_json_type_name (v->items[i]->type));
        }
      vec[i] = strdup (v->items[i]->str);
      if (vec[i] == NULL)
        return bl_strv_free (vec), bl_fail (err, ENOMEM, "strdup");
    }
  *out = vec;
  if (n)
    *n = v->n;
  return 0;
}

void
bl_strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free (*p);
  free (v);
}
