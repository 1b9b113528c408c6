// One chat connection: a read goroutine feeding the hub and a write goroutine
// draining the send channel, as in gorilla/websocket's examples/chat/client.go.
//
// One deliberate change: the example joins every message already queued when
// the writer wakes up into ONE WebSocket message, separated by '\n' (and so
// strips newlines from incoming text). That makes "a\nb" one delivery where
// every other server sends two frames, and lets gorilla skip per-message frame
// work. Here the writer still drains the whole queue in one wake-up, but each
// message goes out as its own frame, byte for byte as received.

package main

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeWait  = 10 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = pongWait * 9 / 10
)

// The example's per-client buffered channel holds 256 messages; -send-queue
// changes it (compare.sh keeps 256).
var sendQueue = 256

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	// Load generators send no Origin or a foreign one; this is a benchmark peer.
	CheckOrigin: func(*http.Request) bool { return true },
}

type client struct {
	hub       *hub
	conn      *websocket.Conn
	closeOnce sync.Once
	send      chan []byte
}

func (c *client) closeConn() {
	c.closeOnce.Do(func() { c.conn.Close() })
}

func (c *client) readPump(maxMessage int64) {
	defer func() {
		c.hub.unregister <- c
		c.closeConn()
	}()
	c.conn.SetReadLimit(maxMessage)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		_, message, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		// Any frame from the client proves it is alive, not only a pong.
		c.conn.SetReadDeadline(time.Now().Add(pongWait))
		c.hub.broadcast <- message
	}
}

func (c *client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.closeConn()
	}()
	for {
		select {
		case message, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok { // the hub closed the channel
				c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if c.conn.WriteMessage(websocket.TextMessage, message) != nil {
				return
			}
			// Drain what queued up meanwhile, one frame per message.
			for n := len(c.send); n > 0; n-- {
				message, ok = <-c.send
				if !ok {
					c.conn.WriteMessage(websocket.CloseMessage, []byte{})
					return
				}
				if c.conn.WriteMessage(websocket.TextMessage, message) != nil {
					return
				}
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if c.conn.WriteMessage(websocket.PingMessage, nil) != nil {
				return
			}
		}
	}
}

func serveChat(h *hub, maxMessage int64, w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has already answered with an HTTP error
	}
	c := &client{hub: h, conn: conn, send: make(chan []byte, sendQueue)}
	h.register <- c
	go c.writePump()
	go c.readPump(maxMessage)
}

// serveEcho is gorilla's echo example: one goroutine reads a message and
// writes it straight back with the same type.
func serveEcho(maxMessage int64, w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(maxMessage)
	for {
		kind, message, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if conn.WriteMessage(kind, message) != nil {
			return
		}
	}
}
