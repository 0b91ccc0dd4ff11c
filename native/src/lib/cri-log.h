/* Container output in the CRI log format the kubelet reads:
     <RFC3339Nano> stdout|stderr F|P <text>\n
   Lines longer than BL_CRI_LINE_MAX are split into P (partial) records followed by an F
   (full) record.  Each record is one write(2) to an O_APPEND file.  */
#ifndef BL_CRI_LOG_H
#define BL_CRI_LOG_H

#include <stddef.h>

#include "error.h"

#define BL_CRI_LINE_MAX 16384

enum bl_stream
{
  BL_STDOUT,
  BL_STDERR
};

struct bl_cri_log
{
  int fd;
  size_t len[2];
  char buf[2][BL_CRI_LINE_MAX];
};

/* The log takes no ownership of `fd`.  */
void bl_cri_log_init (struct bl_cri_log *l, int fd);

/* Appends output of one stream; complete lines are written out immediately.  */
int bl_cri_log_feed (struct bl_cri_log *l, enum bl_stream s, const char *data, size_t n,
                     struct bl_error *err);

/* At end of stream: writes a pending unterminated line as a full record.  */
int bl_cri_log_flush (struct bl_cri_log *l, enum bl_stream s, struct bl_error *err);

#endif
