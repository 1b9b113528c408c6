// The hub of gorilla/websocket's chat example (examples/chat/hub.go), kept as
// people know it: one goroutine owns the client set; a message is offered to
// every client's 256-slot send channel, and a client whose channel is full is
// dropped on the spot (its channel closed, its writer then closes the socket).
// The sender is a client like the others, so it receives its own message.

package main

type hub struct {
	clients    map[*client]struct{}
	broadcast  chan []byte
	register   chan *client
	unregister chan *client
}

func newHub() *hub {
	return &hub{
		clients:    make(map[*client]struct{}),
		broadcast:  make(chan []byte), // unbuffered, as in the example
		register:   make(chan *client),
		unregister: make(chan *client),
	}
}

func (h *hub) run() {
	for {
		select {
		case c := <-h.register:
			h.clients[c] = struct{}{}
		case c := <-h.unregister:
			if _, ok := h.clients[c]; ok {
				delete(h.clients, c)
				close(c.send)
			}
		case message := <-h.broadcast:
			for c := range h.clients {
				select {
				case c.send <- message:
				default: // slow consumer: drop it rather than block everyone
					delete(h.clients, c)
					close(c.send)
				}
			}
		}
	}
}
