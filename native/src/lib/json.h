/* A small JSON reader (config.json, process.json, state files) and string writer.
   No third-party library is available on the build hosts, so this is our own.  */
#ifndef BL_JSON_H
#define BL_JSON_H

#include <stdio.h>
#include <stddef.h>

#include "error.h"

enum bl_json_type
{
  BL_JSON_NULL,
  BL_JSON_BOOL,
  BL_JSON_NUMBER,
  BL_JSON_STRING,
  BL_JSON_ARRAY,
  BL_JSON_OBJECT
};

/* A parsed value.  Numbers keep their text in `str` so 64-bit integers stay exact.
   Objects keep keys[i] for items[i].  The tree owns all its memory.  */
struct bl_json
{
  enum bl_json_type type;
  int boolean;
  char *str;
  size_t n;
  struct bl_json **items;
  char **keys;
};

/* Parses `text` (NUL-terminated); on success *out owns a tree freed by bl_json_free.  */
int bl_json_parse (const char *text, struct bl_json **out, struct bl_error *err);

/* Parses the file at `path`.  */
int bl_json_parse_file (const char *path, struct bl_json **out, struct bl_error *err);

void bl_json_free (struct bl_json *v);

/* The member `key` of an object, or NULL when absent or `obj` is not an object.  */
const struct bl_json *bl_json_get (const struct bl_json *obj, const char *key);

/* Writes `s` as a quoted, escaped JSON string.  */
void bl_json_write_string (FILE *f, const char *s);

const char *bl_json_type_name (enum bl_json_type t);

#endif
