package pki

import "crypto/x509"

type x509Cert = x509.Certificate

func x509Opts(ca *CA, name string) x509.VerifyOptions {
	return x509.VerifyOptions{Roots: ca.Pool(), DNSName: name}
}
