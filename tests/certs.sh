# mkcert NAME CN [CA]: an EC key and certificate in $CERTS (NAME.key,
# NAME.crt); a CA when no CA is named, else a server/client certificate for
# 127.0.0.1 and localhost signed by CA.  Sourced by the tests that run the
# TLS API server peer.
mkcert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$CERTS/$1.key" -out "$CERTS/$1.csr" -subj "/CN=$2" 2>/dev/null || return 1
	if [ $# -eq 2 ]; then
		printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$CERTS/$1.ext"
		openssl x509 -req -in "$CERTS/$1.csr" -signkey "$CERTS/$1.key" -days 2 \
			-extfile "$CERTS/$1.ext" -out "$CERTS/$1.crt" 2>/dev/null
	else
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$CERTS/$1.ext"
		openssl x509 -req -in "$CERTS/$1.csr" -CA "$CERTS/$3.crt" -CAkey "$CERTS/$3.key" \
			-CAcreateserial -days 2 -extfile "$CERTS/$1.ext" -out "$CERTS/$1.crt" 2>/dev/null
	fi
}
