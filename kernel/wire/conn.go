// Package wire is the Jupyter messaging wire format: connection files, the
// message envelope with its identities and `<IDS|MSG>` delimiter, HMAC
// signing and verification, and the ids and dates messages carry.
//
// Nothing in this package panics on input from the network: every malformed
// frame is reported as an error with context.
package wire

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

// ConnectionInfo is the content of a Jupyter connection file.
type ConnectionInfo struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	ControlPort     int    `json:"control_port"`
	StdinPort       int    `json:"stdin_port"`
	IOPubPort       int    `json:"iopub_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnectionFile reads and validates a connection file.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ConnectionInfo{}, fmt.Errorf("reading connection file: %w", err)
	}
	ci, err := ParseConnectionInfo(data)
	if err != nil {
		return ConnectionInfo{}, fmt.Errorf("connection file %s: %w", path, err)
	}
	return ci, nil
}

// ParseConnectionInfo parses and validates the JSON of a connection file.
// Missing transport and signature_scheme default to "tcp" and
// "hmac-sha256", as in jupyter_client.
func ParseConnectionInfo(data []byte) (ConnectionInfo, error) {
	var ci ConnectionInfo
	if err := json.Unmarshal(data, &ci); err != nil {
		return ConnectionInfo{}, fmt.Errorf("parsing connection info: %w", err)
	}
	if ci.Transport == "" {
		ci.Transport = "tcp"
	}
	if ci.SignatureScheme == "" {
		ci.SignatureScheme = "hmac-sha256"
	}
	if ci.Transport != "tcp" && ci.Transport != "ipc" {
		return ConnectionInfo{}, fmt.Errorf("unsupported transport %q (want tcp or ipc)", ci.Transport)
	}
	if ci.IP == "" {
		if ci.Transport == "ipc" {
			return ConnectionInfo{}, fmt.Errorf("ipc transport needs a path in \"ip\"")
		}
		ci.IP = "127.0.0.1"
	}
	for _, p := range []struct {
		name string
		port int
	}{{"shell_port", ci.ShellPort}, {"control_port", ci.ControlPort}, {"stdin_port", ci.StdinPort},
		{"iopub_port", ci.IOPubPort}, {"hb_port", ci.HBPort}} {
		if p.port < 0 || p.port > 65535 {
			return ConnectionInfo{}, fmt.Errorf("%s %d out of range", p.name, p.port)
		}
	}
	if _, err := NewSigner(ci.SignatureScheme, []byte(ci.Key)); err != nil {
		return ConnectionInfo{}, err
	}
	return ci, nil
}

// Endpoint is the ZeroMQ address of a channel's port, as jupyter_client
// builds it: tcp://IP:PORT, or ipc://PATH-PORT for the ipc transport.
func (ci ConnectionInfo) Endpoint(port int) string {
	if ci.Transport == "ipc" {
		return "ipc://" + ci.IP + "-" + strconv.Itoa(port)
	}
	host := ci.IP
	if host == "*" {
		host = "0.0.0.0"
	}
	return "tcp://" + joinHostPort(host, port)
}

func joinHostPort(host string, port int) string {
	for i := 0; i < len(host); i++ {
		if host[i] == ':' { // IPv6 literal
			return "[" + host + "]:" + strconv.Itoa(port)
		}
	}
	return host + ":" + strconv.Itoa(port)
}

// Signer returns the signer the connection's key and scheme describe.
func (ci ConnectionInfo) Signer() (*Signer, error) {
	return NewSigner(ci.SignatureScheme, []byte(ci.Key))
}
