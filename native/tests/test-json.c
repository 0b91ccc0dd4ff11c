/* Unit tests of json.c: values, escapes, exact big integers, errors with offsets.  */
#include "check.h"
#include "json.h"

#include <stdlib.h>

static void
test_values (void)
{
  struct bl_json *v = NULL;
  struct bl_error err = { 0 };
  CHECK (bl_json_parse ("{\"a\":[1,true,null,\"x\\u00e9\\n\"],\"big\":9223372036854775807,"
                        "\"neg\":-5, \"o\":{}}",
                        &v, &err)
         == 0);
  const struct bl_json *a = bl_json_get (v, "a");
  CHECK (a && a->type == BL_JSON_ARRAY && a->n == 4);
  CHECK (a->items[0]->type == BL_JSON_NUMBER && strcmp (a->items[0]->str, "1") == 0);
  CHECK (a->items[1]->type == BL_JSON_BOOL && a->items[1]->boolean);
  CHECK (a->items[2]->type == BL_JSON_NULL);
  CHECK_STR (a->items[3]->str, "x\xc3\xa9\n");
  CHECK_STR (bl_json_get (v, "big")->str, "9223372036854775807");
  CHECK (bl_json_get (v, "o")->type == BL_JSON_OBJECT && bl_json_get (v, "o")->n == 0);
  CHECK (bl_json_get (v, "missing") == NULL);
  bl_json_free (v);
}

static void
test_surrogates (void)
{
  struct bl_json *v = NULL;
  CHECK (bl_json_parse ("\"\\ud83d\\ude00\"", &v, NULL) == 0);
  CHECK_STR (v->str, "\xf0\x9f\x98\x80");
  bl_json_free (v);
}

static void
test_errors (void)
{
  static const char *bad[] = { "", "{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "{} x", "\"\\q\"",
                               "[\"\\u0000\"]", "-" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      struct bl_json *v = NULL;
      struct bl_error err = { 0 };
      CHECK (bl_json_parse (bad[i], &v, &err) < 0);
      CHECK (strstr (err.msg, "invalid JSON at offset") != NULL);
      CHECK (v == NULL);
    }
}

static void
test_depth_limit (void)
{
  char deep[300];
  struct bl_json *v = NULL;
  struct bl_error err = { 0 };
  memset (deep, '[', 200);
  deep[200] = '\0';
  CHECK (bl_json_parse (deep, &v, &err) < 0);
  CHECK (strstr (err.msg, "nesting too deep") != NULL);
}

static void
test_write_string (void)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);
  bl_json_write_string (f, "a\"b\\c\n\x01");
  fclose (f);
  CHECK_STR (buf, "\"a\\\"b\\\\c\\n\\u0001\"");
  free (buf);
}

int
main (void)
{
  test_values ();
  test_surrogates ();
  test_errors ();
  test_depth_limit ();
  test_write_string ();
  CHECK_DONE ("test-json");
}
