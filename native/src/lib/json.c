/* Recursive-descent JSON parser with a depth limit, and a string escaper.  */
#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct parser
{
  const char *p;
  const char *start;
  struct bl_error *err;
};

static int parse_value (struct parser *ps, struct bl_json **out, int depth);

/* Fails with the byte offset so users can find the broken spot.  */
static int
syntax (struct parser *ps, const char *what)
{
  return bl_fail (ps->err, 0, "invalid JSON at offset %zu: %s", (size_t) (ps->p - ps->start), what);
}

/* Skips JSON whitespace.  */
static void
skip_ws (struct parser *ps)
{
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
    ps->p++;
}

/* Appends a code point as UTF-8.  */
static size_t
put_utf8 (char *o, uint32_t cp)
{
  if (cp < 0x80)
    return o[0] = (char) cp, 1;
  if (cp < 0x800)
    return o[0] = (char) (0xc0 | (cp >> 6)), o[1] = (char) (0x80 | (cp & 0x3f)), 2;
  if (cp < 0x10000)
    {
      o[0] = (char) (0xe0 | (cp >> 12));
      o[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
      o[2] = (char) (0x80 | (cp & 0x3f));
      return 3;
    }
  o[0] = (char) (0xf0 | (cp >> 18));
  o[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
  o[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
  o[3] = (char) (0x80 | (cp & 0x3f));
  return 4;
}

/* Reads 4 hex digits.  */
static int
hex4 (const char *s, uint32_t *out)
{
  uint32_t v = 0;
  for (int i = 0; i < 4; i++)
    {
      char c = s[i];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= (uint32_t) (c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= (uint32_t) (c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= (uint32_t) (c - 'A' + 10);
      else
        return -1;
    }
  *out = v;
  return 0;
}

/* Decodes one escape sequence after the backslash; advances ps->p.  */
static int
parse_escape (struct parser *ps, char *o, size_t *len)
{
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  const char *hit = strchr (from, *ps->p);
  uint32_t cp, lo;

  if (*ps->p != 'u')
    {
      if (*ps->p == '\0' || hit == NULL)
        return syntax (ps, "bad escape");
      o[(*len)++] = to[hit - from];
      ps->p++;
      return 0;
    }
  if (hex4 (ps->p + 1, &cp) < 0)
    return syntax (ps, "bad \\u escape");
  ps->p += 5;
  if (cp >= 0xd800 && cp < 0xdc00 && ps->p[0] == '\\' && ps->p[1] == 'u'
      && hex4 (ps->p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000)
    {
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      ps->p += 6;
    }
  if (cp == 0)
    return syntax (ps, "NUL in string");
  *len += put_utf8 (o + *len, cp);
  return 0;
}

/* Parses a string starting at the opening quote into a new NUL-terminated buffer.  */
static int
parse_string (struct parser *ps, char **out)
{
  const char *end = ps->p + 1;
  size_t len = 0;
  char *o;

  while (*end && *end != '"')
    end += (*end == '\\' && end[1]) ? 2 : 1;
  if (*end != '"')
    return syntax (ps, "unterminated string");
  o = malloc ((size_t) (end - ps->p) + 4);
  if (o == NULL)
    return bl_fail (ps->err, ENOMEM, "malloc");
  ps->p++;
  while (*ps->p != '"')
    {
      unsigned char c = (unsigned char) *ps->p;
      if (c < 0x20)
        return free (o), syntax (ps, "control character in string");
      if (c != '\\')
        {
          o[len++] = (char) c;
          ps->p++;
          continue;
        }
      ps->p++;
      if (parse_escape (ps, o, &len) < 0)
        return free (o), -1;
    }
  ps->p++;
  o[len] = '\0';
  *out = o;
  return 0;
}

/* Parses a number, keeping its text.  */
static int
parse_number (struct parser *ps, struct bl_json *v)
{
  const char *s = ps->p;
  if (*ps->p == '-')
    ps->p++;
  if (*ps->p < '0' || *ps->p > '9')
    return syntax (ps, "bad number");
  while ((*ps->p >= '0' && *ps->p <= '9') || *ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'
         || *ps->p == '+' || *ps->p == '-')
    ps->p++;
  v->type = BL_JSON_NUMBER;
  v->str = strndup (s, (size_t) (ps->p - s));
  return v->str ? 0 : bl_fail (ps->err, ENOMEM, "strndup");
}

/* Appends a child (and key) to an array or object.  */
static int
push (struct parser *ps, struct bl_json *v, char *key, struct bl_json *child)
{
  struct bl_json **items = realloc (v->items, (v->n + 1) * sizeof *items);
  char **keys;
  if (items == NULL)
    return bl_fail (ps->err, ENOMEM, "realloc");
  v->items = items;
  keys = realloc (v->keys, (v->n + 1) * sizeof *keys);
  if (keys == NULL)
    return bl_fail (ps->err, ENOMEM, "realloc");
  v->keys = keys;
  v->items[v->n] = child;
  v->keys[v->n] = key;
  v->n++;
  return 0;
}

/* Parses an array or object body after the opening bracket.  */
static int
parse_container (struct parser *ps, struct bl_json *v, int depth)
{
  int is_obj = v->type == BL_JSON_OBJECT;
  char close = is_obj ? '}' : ']';

  skip_ws (ps);
  if (*ps->p == close)
    return ps->p++, 0;
  for (;;)
    {
      char *key = NULL;
      struct bl_json *child = NULL;
      skip_ws (ps);
      if (is_obj)
        {
          if (*ps->p != '"')
            return syntax (ps, "expected object key");
          if (parse_string (ps, &key) < 0)
            return -1;
          skip_ws (ps);
          if (*ps->p != ':')
            return free (key), syntax (ps, "expected ':'");
          ps->p++;
        }
      if (parse_value (ps, &child, depth + 1) < 0)
        return free (key), -1;
      if (push (ps, v, key, child) < 0)
        return free (key), bl_json_free (child), -1;
      skip_ws (ps);
      if (*ps->p == ',')
        {
          ps->p++;
          continue;
        }
      if (*ps->p == close)
        return ps->p++, 0;
      return syntax (ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

/* Parses a literal keyword.  */
static int
parse_literal (struct parser *ps, struct bl_json *v)
{
  if (strncmp (ps->p, "true", 4) == 0)
    return v->type = BL_JSON_BOOL, v->boolean = 1, ps->p += 4, 0;
  if (strncmp (ps->p, "false", 5) == 0)
    return v->type = BL_JSON_BOOL, ps->p += 5, 0;
  if (strncmp (ps->p, "null", 4) == 0)
    return v->type = BL_JSON_NULL, ps->p += 4, 0;
  return syntax (ps, "unexpected character");
}

static int
parse_value (struct parser *ps, struct bl_json **out, int depth)
{
  struct bl_json *v;
  int r;

  if (depth > MAX_DEPTH)
    return syntax (ps, "nesting too deep");
  v = calloc (1, sizeof *v);
  if (v == NULL)
    return bl_fail (ps->err, ENOMEM, "calloc");
  skip_ws (ps);
  if (*ps->p == '{' || *ps->p == '[')
    {
      v->type = *ps->p == '{' ? BL_JSON_OBJECT : BL_JSON_ARRAY;
      ps->p++;
      r = parse_container (ps, v, depth);
    }
  else if (*ps->p == '"')
    {
      v->type = BL_JSON_STRING;
      r = parse_string (ps, &v->str);
    }
  else if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
    r = parse_number (ps, v);
  else
    r = parse_literal (ps, v);
  if (r < 0)
    return bl_json_free (v), -1;
  *out = v;
  return 0;
}

int
bl_json_parse (const char *text, struct bl_json **out, struct bl_error *err)
{
  struct parser ps = { .p = text, .start = text, .err = err };
  struct bl_json *v = NULL;

  if (parse_value (&ps, &v, 0) < 0)
    return -1;
  skip_ws (&ps);
  if (*ps.p != '\0')
    {
      bl_json_free (v);
      return syntax (&ps, "trailing characters");
    }
  *out = v;
  return 0;
}

int
bl_json_parse_file (const char *path, struct bl_json **out, struct bl_error *err)
{
  cleanup_fclose FILE *f = fopen (path, "re");
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0, r;

  if (f == NULL)
    return bl_fail (err, errno, "open `%s`", path);
  do
    {
      if (cap - len < 4096)
        {
          char *nb = realloc (buf, cap = cap * 2 + 8192);
          if (nb == NULL)
            return bl_fail (err, ENOMEM, "read `%s`", path);
          buf = nb;
        }
      r = fread (buf + len, 1, cap - len - 1, f);
      len += r;
    }
  while (r > 0);
  if (ferror (f))
    return bl_fail (err, EIO, "read `%s`", path);
  buf[len] = '\0';
  if (bl_json_parse (buf, out, err) < 0)
    return bl_wrap (err, "`%s`", path);
  return 0;
}

void
bl_json_free (struct bl_json *v)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < v->n; i++)
    {
      bl_json_free (v->items[i]);
      free (v->keys[i]);
    }
  free (v->items);
  free (v->keys);
  free (v->str);
  free (v);
}

const struct bl_json *
bl_json_get (const struct bl_json *obj, const char *key)
{
  if (obj == NULL || obj->type != BL_JSON_OBJECT)
    return NULL;
  for (size_t i = 0; i < obj->n; i++)
    if (strcmp (obj->keys[i], key) == 0)
      return obj->items[i];
  return NULL;
}

void
bl_json_write_string (FILE *f, const char *s)
{
  fputc ('"', f);
  for (; *s; s++)
    {
      unsigned char c = (unsigned char) *s;
      if (c == '"' || c == '\\')
        fprintf (f, "\\%c", c);
      else if (c == '\n')
        fputs ("\\n", f);
      else if (c == '\t')
        fputs ("\\t", f);
      else if (c < 0x20)
        fprintf (f, "\\u%04x", c);
      else
        fputc (c, f);
    }
  fputc ('"', f);
}

const char *
bl_json_type_name (enum bl_json_type t)
{
  static const char *names[] = { "null", "boolean", "number", "string", "array", "object" };
  return names[t];
}
