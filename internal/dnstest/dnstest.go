// Package dnstest is a DNS server on 127.0.0.1 that knows no name: every query is
// answered NXDOMAIN, as a real resolver answers a name that does not exist. Tests point
// Go's own resolver at it (Dialer), so that a lookup runs for real and never leaves the
// machine.
package dnstest

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Server answers DNS queries over UDP on 127.0.0.1. Close it when done.
type Server struct {
	conn net.PacketConn
	done chan struct{}

	mu      sync.Mutex
	queries []string
}

// Start starts a Server.
func Start() (*Server, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{conn: conn, done: make(chan struct{})}
	go s.serve()
	return s, nil
}

func (s *Server) serve() {
	defer close(s.done)
	buf := make([]byte, 1500)
	for {
		n, addr, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if out, ok := s.answer(buf[:n]); ok {
			s.conn.WriteTo(out, addr)
		}
	}
}

// answer builds the NXDOMAIN answer to one query.
func (s *Server) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	s.mu.Lock()
	s.queries = append(s.queries, q.Name.String())
	s.mu.Unlock()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{
		ID: h.ID, Response: true, Authoritative: true,
		RecursionDesired: h.RecursionDesired, RecursionAvailable: true,
		RCode: dnsmessage.RCodeNameError,
	})
	if b.StartQuestions() != nil || b.Question(q) != nil {
		return nil, false
	}
	out, err := b.Finish()
	return out, err == nil
}

// Queries returns the names asked so far, in order (each lookup asks for A and AAAA).
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

// Dialer returns a dialer whose lookups go to s only, through Go's own resolver.
func (s *Server) Dialer() *net.Dialer {
	addr := s.conn.LocalAddr().String()
	return &net.Dialer{
		Timeout: 5 * time.Second,
		Resolver: &net.Resolver{
			PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				if network != "udp" && network != "udp4" && network != "udp6" {
					return nil, errors.New("dnstest: UDP only")
				}
				var d net.Dialer
				return d.DialContext(ctx, "udp", addr)
			},
		},
	}
}

// Close stops the server.
func (s *Server) Close() {
	s.conn.Close()
	<-s.done
}
