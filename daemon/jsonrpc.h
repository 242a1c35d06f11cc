/*
 * jsonrpc.h: the JSON-RPC 2.0 envelope, nothing else.  Pure functions: decode
 * a frame into requests, classify each request, build results and errors and
 * encode a reply frame.  No I/O, no knowledge of methods or connections.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* Standard codes (JSON-RPC 2.0 section 5.1). */
#define JSONRPC_PARSE_ERROR	 -32700
#define JSONRPC_INVALID_REQUEST	 -32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS	 -32602
#define JSONRPC_INTERNAL_ERROR	 -32603

/*
 * Application error kinds.  Each kind has one stable positive code; the code
 * and the kind string travel together in every application error
 * (protocol/PROTOCOL.md, "Errors").  Append only: never renumber.
 */
enum rpc_kind {
	RPC_KIND_NONE = 0, /* "internal": reported with code -32603 */
	RPC_KIND_NOT_FOUND = 1,
	RPC_KIND_EXISTS = 2,
	RPC_KIND_BUSY = 3,
	RPC_KIND_INVALID = 4,
	RPC_KIND_PERMISSION = 5,
	RPC_KIND_KERNEL = 6,
	RPC_KIND_IO = 7,
	RPC_KIND_LIMIT = 8,
	RPC_KIND_SHUTTING_DOWN = 9,
	RPC_KIND_UNSUPPORTED = 10,
	RPC_KIND_TIMEOUT = 11,
	_RPC_KIND_MAX,
};

const char *jsonrpc_kind_name(enum rpc_kind kind);
/* The kind an errno value most naturally maps to (EEXIST → exists …). */
enum rpc_kind jsonrpc_kind_from_errno(int errnum);

/*
 * One request of a frame, as classified by jsonrpc_request_parse().  The
 * pointers borrow from the decoded message.  When error_code is non-zero the
 * request is invalid and must be answered with that error and id (which is
 * json_null() when the id itself was unusable).
 */
struct jsonrpc_request {
	json_t *id; /* NULL for a notification */
	const char *method;
	json_t *params; /* NULL when omitted */
	int error_code;
	const char *error_message;
};

/*
 * Decode one frame (one line without its newline).  U+0000 (the escape
 * \u0000) is decoded in strings, as RFC 8259 allows, so that the request can
 * be answered with its id; values holding it are refused later (the method
 * by jsonrpc_request_parse(), params by dispatch_validate()).  In member
 * names, which jansson cannot hold it in, it is decoded as JSONRPC_NUL_MARK.
 * Returns 0 and the message (an object or a non-empty array) in *ret, or a
 * JSON-RPC error code
 * (JSONRPC_PARSE_ERROR for unparsable text, JSONRPC_INVALID_REQUEST for an
 * empty batch or a frame that is neither object nor array) with a message in
 * errbuf.  The caller owns *ret.
 */
int jsonrpc_decode(const char *buf, size_t len, json_t **ret, char *errbuf, size_t errlen);

/* What a U+0000 in a member name decodes to: U+FFFF, a noncharacter, in UTF-8. */
#define JSONRPC_NUL_MARK "\xef\xbf\xbf"

/*
 * True when s (len bytes) holds U+0000 or JSONRPC_NUL_MARK: a C string API
 * would see only part of it.
 */
bool jsonrpc_has_nul(const char *s, size_t len);

/* Classify one element of a frame (the frame itself or a batch item). */
void jsonrpc_request_parse(json_t *item, struct jsonrpc_request *ret);

/* A success response; steals result.  id is borrowed (it is copied). */
json_t *jsonrpc_result(json_t *id, json_t *result);

/*
 * An error response.  data may be NULL; it is stolen.  message is copied.
 */
json_t *jsonrpc_error(json_t *id, int code, const char *message, json_t *data);

/*
 * error.data for an application or invalid-params error: {"kind", "errno"?,
 * "field"?}.  errnum <= 0 and field NULL are left out.
 */
json_t *jsonrpc_error_data(enum rpc_kind kind, int errnum, const char *field);

/*
 * Encode a reply frame: compact JSON followed by '\n'.  A fractional id is
 * printed with the fewest digits that read back as the same double, so ids
 * are echoed as the client wrote them.  Returns a malloc'd buffer and its
 * length, or NULL on allocation failure.
 */
char *jsonrpc_encode(json_t *msg, size_t *ret_len);
