/*
 * uci_flock.node: flock(2) for @meshwan/uci. libuci serializes writers with flock() on the config and delta
 * files themselves (util.c uci_open_stream), and Node has no flock, so interop needs the real call.
 * flock(fd, op) -> 0 or errno. Blocking, retried on EINTR. All logic stays in TypeScript.
 */
#include <errno.h>
#include <sys/file.h>
#include <node_api.h>

static napi_value do_flock(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	int32_t fd = -1, op = 0;
	int ret;
	napi_value out;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
	    napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
	    napi_get_value_int32(env, argv[1], &op) != napi_ok) {
		napi_throw_type_error(env, NULL, "flock(fd, op): two integers expected");
		return NULL;
	}
	do {
		ret = flock(fd, op);
	} while (ret < 0 && errno == EINTR);
	napi_create_int32(env, ret < 0 ? errno : 0, &out);
	return out;
}

NAPI_MODULE_INIT()
{
	napi_value fn;

	napi_create_function(env, "flock", NAPI_AUTO_LENGTH, do_flock, NULL, &fn);
	napi_set_named_property(env, exports, "flock", fn);
	napi_value sh, ex, un, nb;
	napi_create_int32(env, LOCK_SH, &sh);
	napi_create_int32(env, LOCK_EX, &ex);
	napi_create_int32(env, LOCK_UN, &un);
	napi_create_int32(env, LOCK_NB, &nb);
	napi_set_named_property(env, exports, "LOCK_SH", sh);
	napi_set_named_property(env, exports, "LOCK_EX", ex);
	napi_set_named_property(env, exports, "LOCK_UN", un);
	napi_set_named_property(env, exports, "LOCK_NB", nb);
	return exports;
}
