/* Shared between sockmark.c (the addon's entry) and batchio.c (batched UDP I/O). */
#ifndef WAN_DNS_BATCHIO_H
#define WAN_DNS_BATCHIO_H
#include <node_api.h>

/* Throws an Error carrying errno, code and syscall; returns NULL for the caller to return. */
napi_value throw_errno(napi_env env, int e, const char *syscall);
/* Adds the batched I/O functions to the addon's exports. */
void batchio_init(napi_env env, napi_value exports);
#endif
