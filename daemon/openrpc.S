/* The OpenRPC document, embedded verbatim so rpc.discover serves what protocol/ says. */
	.section .rodata
	.global netnsd_openrpc_json
	.type netnsd_openrpc_json, @object
netnsd_openrpc_json:
	.incbin "protocol/netnsd.openrpc.json"
	.byte 0
	.size netnsd_openrpc_json, . - netnsd_openrpc_json
	.section .note.GNU-stack,"",@progbits
