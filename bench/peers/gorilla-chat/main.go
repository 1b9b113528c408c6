// gorilla-chat: the gorilla/websocket chat example as a benchmark peer for
// Parley. /ws broadcasts every text message to all clients (sender included);
// /echo sends each message back to its sender.
//
// Build without any download, against Debian's golang-github-gorilla-websocket-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o gorilla-chat .
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 8080, "TCP port")
	// The example reads at most 512 bytes; larger here so that any --size the
	// load generator is given still works.
	maxMessage := flag.Int64("max-message-size", 1<<16, "largest message accepted, in bytes")
	flag.IntVar(&sendQueue, "send-queue", sendQueue,
		"messages queued per client before the hub drops it (the example's 256)")
	flag.Parse()

	h := newHub()
	go h.run()
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		serveChat(h, *maxMessage, w, r)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		serveEcho(*maxMessage, w, r)
	})
	addr := net.JoinHostPort(*host, strconv.Itoa(*port))
	server := &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(os.Stderr, "gorilla-chat: ", 0),
	}
	fmt.Fprintf(os.Stderr, "gorilla-chat listening on %s (/ws chat, /echo)\n", addr)
	log.Fatal(server.ListenAndServe())
}
