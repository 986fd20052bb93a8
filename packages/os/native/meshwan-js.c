/*
 * meshwan-js: the one engine binary on the router. QuickJS (linked in statically) with its std and os modules and
 * meshwan's own "meshwan:netio" (netio-qjs.c) built in, so no native module is loaded at run time.
 *   meshwan-js FILE.js|FILE.qbc [ARG...]   run a module (source) or precompiled bytecode (.qbc)
 *   meshwan-js --compile IN.js OUT.qbc     compile a module to bytecode with this very engine (debug info stripped)
 *   NAME [ARG...]  (a symlink to meshwan-js) runs $MESHWAN_JS_LIB/NAME.qbc, /usr/lib/meshwan by default: one
 *                  binary for every command, as busybox is.
 * scriptArgs is [FILE, ARG...] as in qjs. A file that fails to load or throws while starting exits 1 with the
 * error on stderr before any event loop runs; a bad invocation exits 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quickjs-libc.h"
#include "quickjs.h"

JSModuleDef *js_init_module_netio(JSContext *ctx, const char *module_name);

static JSContext *new_context(JSRuntime *rt) {
  JSContext *ctx = JS_NewContext(rt);
  if (!ctx) return NULL;
  if (!js_init_module_std(ctx, "std") || !js_init_module_os(ctx, "os") || !js_init_module_netio(ctx, "meshwan:netio")) {
    JS_FreeContext(ctx);
    return NULL;
  }
  return ctx;
}

/*
 * Unhandled rejections by Node's rule, not qjs's. qjs's tracker exits at the rejection itself, so `try { await f() }
 * catch` of an async f that throws before its first await ended the process: f's promise is rejected before the
 * caller's await attaches a handler. Here a rejection is remembered, forgotten when a handler is attached, and
 * fatal only if still unhandled once the job queue has drained (a check job that re-queues itself behind the others).
 */
typedef struct {
  JSValue promise;
  JSValue reason;
} rejection;
static rejection *rejections;
/* The main module's evaluation promise: its rejection is the program's error, printed as such. */
static JSValue module_promise; /* set (and not null) once start() succeeded */
static int have_module_promise;
static size_t rejections_len, rejections_cap;
static int check_queued;

static JSValue check_rejections(JSContext *ctx, int argc, JSValueConst *argv) {
  (void)argc;
  (void)argv;
  if (JS_IsJobPending(JS_GetRuntime(ctx))) {
    if (JS_EnqueueJob(ctx, check_rejections, 0, NULL) == 0) return JS_UNDEFINED;
  }
  check_queued = 0;
  if (rejections_len > 0) {
    size_t which = 0;
    for (size_t i = 0; i < rejections_len; i++)
      if (have_module_promise && JS_VALUE_GET_PTR(rejections[i].promise) == JS_VALUE_GET_PTR(module_promise)) which = i;
    if (!have_module_promise || JS_VALUE_GET_PTR(rejections[which].promise) != JS_VALUE_GET_PTR(module_promise))
      fprintf(stderr, "Possibly unhandled promise rejection: ");
    JS_Throw(ctx, JS_DupValue(ctx, rejections[which].reason));
    js_std_dump_error(ctx);
    exit(1);
  }
  return JS_UNDEFINED;
}

static void track_rejection(JSContext *ctx, JSValueConst promise, JSValueConst reason, JS_BOOL is_handled, void *opaque) {
  (void)opaque;
  if (is_handled) {
    for (size_t i = 0; i < rejections_len; i++) {
      if (JS_VALUE_GET_PTR(rejections[i].promise) != JS_VALUE_GET_PTR(promise)) continue;
      JS_FreeValue(ctx, rejections[i].promise);
      JS_FreeValue(ctx, rejections[i].reason);
      rejections[i] = rejections[--rejections_len];
      return;
    }
    return;
  }
  if (rejections_len == rejections_cap) {
    size_t cap = rejections_cap ? rejections_cap * 2 : 8;
    rejection *grown = realloc(rejections, cap * sizeof *grown);
    if (!grown) {
      js_std_promise_rejection_tracker(ctx, promise, reason, is_handled, opaque); /* out of memory: qjs's rule */
      return;
    }
    rejections = grown;
    rejections_cap = cap;
  }
  rejections[rejections_len++] = (rejection){JS_DupValue(ctx, promise), JS_DupValue(ctx, reason)};
  if (!check_queued && JS_EnqueueJob(ctx, check_rejections, 0, NULL) == 0) check_queued = 1;
}

static int has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Compiles a module to bytecode; the bytecode is the same on every target (QuickJS writes it little-endian). */
static int compile(JSContext *ctx, const char *in, const char *out) {
  size_t len;
  uint8_t *buf = js_load_file(ctx, &len, in);
  if (!buf) {
    fprintf(stderr, "meshwan-js: cannot read %s: %s\n", in, strerror(errno));
    return 1;
  }
  JSValue obj = JS_Eval(ctx, (const char *)buf, len, in, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
  js_free(ctx, buf);
  if (JS_IsException(obj)) {
    js_std_dump_error(ctx);
    return 1;
  }
  uint8_t *code = JS_WriteObject(ctx, &len, obj, JS_WRITE_OBJ_BYTECODE);
  JS_FreeValue(ctx, obj);
  FILE *f = code ? fopen(out, "wb") : NULL;
  if (!f || fwrite(code, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "meshwan-js: cannot write %s: %s\n", out, strerror(errno));
    return 1;
  }
  js_free(ctx, code);
  return 0;
}

/* Loads and starts FILE; returns 0 when it started (its event loop is then run by the caller). */
static int start(JSContext *ctx, const char *file) {
  size_t len;
  uint8_t *buf = js_load_file(ctx, &len, file);
  if (!buf) {
    fprintf(stderr, "meshwan-js: cannot load %s: %s\n", file, strerror(errno));
    return 1;
  }
  JSValue val;
  if (has_suffix(file, ".qbc")) {
    JSValue obj = JS_ReadObject(ctx, buf, len, JS_READ_OBJ_BYTECODE);
    js_free(ctx, buf);
    if (JS_IsException(obj)) {
      fprintf(stderr, "meshwan-js: %s is not bytecode of this engine (QuickJS %s): ", file, CONFIG_VERSION);
      js_std_dump_error(ctx);
      return 1;
    }
    if (JS_VALUE_GET_TAG(obj) != JS_TAG_MODULE || JS_ResolveModule(ctx, obj) < 0) {
      JS_FreeValue(ctx, obj);
      fprintf(stderr, "meshwan-js: %s: not a module, or its imports do not resolve\n", file);
      js_std_dump_error(ctx);
      return 1;
    }
    js_module_set_import_meta(ctx, obj, 0, 1);
    val = JS_EvalFunction(ctx, obj);
  } else {
    val = JS_Eval(ctx, (const char *)buf, len, file, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    js_free(ctx, buf);
    if (!JS_IsException(val)) {
      js_module_set_import_meta(ctx, val, 1, 1);
      val = JS_EvalFunction(ctx, val);
    }
  }
  if (JS_IsException(val)) {
    js_std_dump_error(ctx);
    return 1;
  }
  /* A module that throws before its first await fails here, before any event loop runs. Otherwise js_std_loop
   * runs it to its end, not js_std_await: that one runs a single job per turn of the loop and then blocks in
   * select(), so while a top-level await is pending (every command's main) a job queued behind another waited for
   * the next fd event or timer, for ever when there was none (a daemon stopped by SIGTERM never got to close). */
  if (JS_PromiseState(ctx, val) == JS_PROMISE_REJECTED) {
    JS_Throw(ctx, JS_PromiseResult(ctx, val));
    JS_FreeValue(ctx, val);
    js_std_dump_error(ctx);
    return 1;
  }
  module_promise = val;
  have_module_promise = 1;
  return 0;
}

int main(int argc, char **argv) {
  const char *self = base_name(argv[0]);
  char path[4096];
  int first; /* argv index of the script: scriptArgs starts there */
  const char *file;
  if (strcmp(self, "meshwan-js") != 0) {
    const char *lib = getenv("MESHWAN_JS_LIB");
    if (snprintf(path, sizeof path, "%s/%s.qbc", lib && *lib ? lib : "/usr/lib/meshwan", self) >= (int)sizeof path) {
      fprintf(stderr, "meshwan-js: path too long\n");
      return 2;
    }
    file = path;
    first = 0;
  } else if (argc >= 2 && strcmp(argv[1], "--compile") != 0 && argv[1][0] != '-') {
    file = argv[1];
    first = 1;
  } else if (argc == 4 && strcmp(argv[1], "--compile") == 0) {
    file = NULL;
    first = 1;
  } else {
    fprintf(stderr, "usage: meshwan-js FILE.js|FILE.qbc [ARG...]\n       meshwan-js --compile IN.js OUT.qbc\n");
    return 2;
  }

  JSRuntime *rt = JS_NewRuntime();
  if (!rt) {
    fprintf(stderr, "meshwan-js: cannot allocate the JS runtime\n");
    return 1;
  }
  js_std_set_worker_new_context_func(new_context);
  js_std_init_handlers(rt);
  JSContext *ctx = new_context(rt);
  if (!ctx) {
    fprintf(stderr, "meshwan-js: cannot allocate the JS context\n");
    return 1;
  }
#ifdef MESHWAN_QJS_ATTRIBUTES
  /* QuickJS 2025-09-13 and later: the loader takes import attributes. */
  JS_SetModuleLoaderFunc2(rt, NULL, js_module_loader, js_module_check_attributes, NULL);
#else
  JS_SetModuleLoaderFunc(rt, NULL, js_module_loader, NULL);
#endif
  /* An unhandled rejection ends the process with the error: a daemon must not run half-started (track_rejection). */
  JS_SetHostPromiseRejectionTracker(rt, track_rejection, NULL);

  int status;
  if (file == NULL) {
    /* What ships is stripped of all debug information (the source, file names and line tables): a third of the
       bytecode and of its xz size, on routers with 16 MB of flash. Errors keep their message and function names;
       a stack with lines comes from running the bundle's source instead. */
    JS_SetStripInfo(rt, JS_STRIP_DEBUG);
    status = compile(ctx, argv[2], argv[3]);
  } else {
    js_std_add_helpers(ctx, argc - first, argv + first);
    status = start(ctx, file);
    if (status == 0) {
      js_std_loop(ctx);
      /* As Node: nothing left to wait for while the module's top-level await is still pending. */
      if (JS_PromiseState(ctx, module_promise) == JS_PROMISE_PENDING) {
        fprintf(stderr, "meshwan-js: %s: the program ended with its top-level await unsettled\n", file);
        status = 13;
      }
    }
    if (have_module_promise) JS_FreeValue(ctx, module_promise);
  }
  js_std_free_handlers(rt);
  for (size_t i = 0; i < rejections_len; i++) {
    JS_FreeValue(ctx, rejections[i].promise);
    JS_FreeValue(ctx, rejections[i].reason);
  }
  free(rejections);
  JS_FreeContext(ctx);
  JS_FreeRuntime(rt);
  return status;
}
