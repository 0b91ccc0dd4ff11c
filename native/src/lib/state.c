/* State and exit files of a container.  */
#include "state.h"
#include "fsutil.h"
#include "json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
bl_state_dir (const char *root, const char *id, char *out, size_t len, struct bl_error *err)
{
  size_t n = strlen (id);
  if (n == 0 || n > 200 || strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return bl_fail (err, 0, "invalid container id `%s`", id);
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || *p == '-' || *p == '_' || *p == '.'))
      return bl_fail (err, 0, "invalid container id `%s`", id);
  snprintf (out, len, "%s/%s", root, id);
  return 0;
}

void
bl_rfc3339_nano (char *out, size_t len)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  snprintf (out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

unsigned long long
bl_proc_start_time (pid_t pid)
{
  char path[64], buf[1024];
  const char *p;
  snprintf (path, sizeof path, "/proc/%d/stat", pid);
  if (bl_read_file (path, buf, sizeof buf, NULL) < 0)
    return 0;
  p = strrchr (buf, ')'); /* comm may contain spaces */
  for (int field = 2; p && field < 22; field++)
    p = strchr (p + 1, ' ');
  return p ? strtoull (p + 1, NULL, 10) : 0;
}

int
bl_state_save (const struct bl_state *st, struct bl_error *err)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);
  int ret;
  if (f == NULL)
    return bl_fail (err, errno, "open_memstream");
  fprintf (f, "{\"id\":");
  bl_json_write_string (f, st->id);
  fprintf (f, ",\"pid\":%d,\"pidStart\":%llu,\"monitorPid\":%d,\"bundle\":", st->pid,
           st->pid_start, st->monitor_pid);
  bl_json_write_string (f, st->bundle);
  fprintf (f, ",\"rootfs\":");
  bl_json_write_string (f, st->rootfs);
  fprintf (f, ",\"cgroupPath\":");
  bl_json_write_string (f, st->cgroup_path);
  fprintf (f, ",\"cgroupDriver\":\"%s\",\"created\":\"%s\",\"logPath\":", st->cgroup_driver,
           st->created);
  bl_json_write_string (f, st->log_path);
  fprintf (f, "}\n");
  fclose (f);
  ret = bl_write_atomic (st->dir, "state.json", buf, err);
  free (buf);
  return ret;
}

int
bl_state_save_exit (const char *dir, int code, int sig, bool oom, struct bl_error *err)
{
  char buf[256], now[64];
  bl_rfc3339_nano (now, sizeof now);
  snprintf (buf, sizeof buf,
            "{\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s\"}\n", code,
            sig, oom ? "true" : "false", now);
  return bl_write_atomic (dir, "exit.json", buf, err);
}

/* Copies a string member into a fixed buffer (empty when absent).  */
static void
copy_str (const struct bl_json *obj, const char *key, char *out, size_t len)
{
  const struct bl_json *v = bl_json_get (obj, key);
  snprintf (out, len, "%s", v && v->type == BL_JSON_STRING ? v->str : "");
}

/* An integer member, or 0.  */
static long long
get_int (const struct bl_json *obj, const char *key)
{
  const struct bl_json *v = bl_json_get (obj, key);
  return v && v->type == BL_JSON_NUMBER ? strtoll (v->str, NULL, 10) : 0;
}

/* Reads exit.json when present.  */
static void
load_exit (struct bl_state *st)
{
  char path[PATH_MAX + 16];
  struct bl_json *doc = NULL;
  const struct bl_json *oom;
  snprintf (path, sizeof path, "%s/exit.json", st->dir);
  if (bl_json_parse_file (path, &doc, NULL) < 0)
    return;
  st->has_exit = true;
  st->exit_code = (int) get_int (doc, "exitCode");
  st->exit_signal = (int) get_int (doc, "signal");
  oom = bl_json_get (doc, "oomKilled");
  st->oom_killed = oom && oom->type == BL_JSON_BOOL && oom->boolean;
  copy_str (doc, "finishedAt", st->finished_at, sizeof st->finished_at);
  bl_json_free (doc);
}

int
bl_state_load (const char *root, const char *id, struct bl_state *st, struct bl_error *err)
{
  char path[PATH_MAX + 16];
  struct bl_json *doc = NULL;
  struct stat sb;
  memset (st, 0, sizeof *st);
  if (bl_state_dir (root, id, st->dir, sizeof st->dir, err) < 0)
    return -1;
  snprintf (st->id, sizeof st->id, "%s", id);
  if (stat (st->dir, &sb) < 0)
    return bl_fail (err, errno, "container `%s` does not exist", id);
  snprintf (path, sizeof path, "%s/state.json", st->dir);
  if (bl_json_parse_file (path, &doc, err) < 0)
    {
      st->status = "creating";
      return errno == ENOENT ? 0 : -1;
    }
  st->pid = (pid_t) get_int (doc, "pid");
  st->pid_start = (unsigned long long) get_int (doc, "pidStart");
  st->monitor_pid = (pid_t) get_int (doc, "monitorPid");
  copy_str (doc, "bundle", st->bundle, sizeof st->bundle);
  copy_str (doc, "rootfs", st->rootfs, sizeof st->rootfs);
  copy_str (doc, "cgroupPath", st->cgroup_path, sizeof st->cgroup_path);
  copy_str (doc, "cgroupDriver", st->cgroup_driver, sizeof st->cgroup_driver);
  copy_str (doc, "created", st->created, sizeof st->created);
  copy_str (doc, "logPath", st->log_path, sizeof st->log_path);
  bl_json_free (doc);
  load_exit (st);
  snprintf (path, sizeof path, "%s/exec.fifo", st->dir);
  if (st->has_exit || st->pid <= 0 || bl_proc_start_time (st->pid) != st->pid_start)
    st->status = "stopped";
  else
    st->status = access (path, F_OK) == 0 ? "created" : "running";
  return 0;
}

void
bl_state_print (FILE *f, const struct bl_state *st)
{
  bool live = strcmp (st->status, "stopped") != 0 && strcmp (st->status, "creating") != 0;
  fprintf (f, "{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": ");
  bl_json_write_string (f, st->id);
  fprintf (f, ",\n  \"status\": \"%s\",\n  \"pid\": %d,\n  \"bundle\": ", st->status,
           live ? st->pid : 0);
  bl_json_write_string (f, st->bundle);
  fprintf (f, ",\n  \"rootfs\": ");
  bl_json_write_string (f, st->rootfs);
  fprintf (f, ",\n  \"created\": \"%s\",\n  \"burstlet\": {\"monitorPid\": %d, \"cgroupPath\": ",
           st->created, st->monitor_pid);
  bl_json_write_string (f, st->cgroup_path);
  fprintf (f, ", \"logPath\": ");
  bl_json_write_string (f, st->log_path);
  if (st->has_exit)
    fprintf (f,
             ", \"exitCode\": %d, \"signal\": %d, \"oomKilled\": %s, \"finishedAt\": \"%s\"",
             st->exit_code, st->exit_signal, st->oom_killed ? "true" : "false", st->finished_at);
  fprintf (f, "}\n}\n");
}

/* Removes `name` under `dfd`, recursively (a directory's entries first).  */
static int
remove_at (int dfd, const char *name, unsigned char type, void *arg)
{
  struct bl_error *err = arg;
  int fd = -1;
  if (type == DT_UNKNOWN || type == DT_DIR)
    fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0)
    {
      int r = bl_each_entry (fd, remove_at, err);
      int saved = errno;
      close (fd);
      if (r == BL_READDIR_FAILED)
        return bl_fail (err, saved, "read directory `%s`", name);
      if (r < 0)
        return -1;
      if (unlinkat (dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return bl_fail (err, errno, "rmdir `%s`", name);
      return 0;
    }
  if (unlinkat (dfd, name, 0) < 0 && errno != ENOENT)
    return bl_fail (err, errno, "unlink `%s`", name);
  return 0;
}

int
bl_remove_tree (const char *path, struct bl_error *err)
{
  return remove_at (AT_FDCWD, path, DT_UNKNOWN, err);
}
