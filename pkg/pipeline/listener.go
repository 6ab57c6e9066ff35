package pipeline

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Listener holds one dedicated connection LISTENing on NotifyChannel (and
// on the channels given to Handle) and wakes the subscribers of a pipeline
// when its version changes. On a lost connection it reconnects with
// backoff and wakes every subscriber so they re-read (subscribers also
// poll, so a missed notification only delays).
//
// It also keeps the heads of recently read pipelines (Head): their
// version, kept current by the notifications, so that a poll with
// If-None-Match is answered without reading the database. The heads are
// trusted only while the connection LISTENs: on a lost connection they are
// dropped and every Head reads the database until the listener is back
// (docs/api.md §1 "Caching and ETags").
type Listener struct {
	connConfig *pgx.ConnConfig
	logger     *slog.Logger

	mu       sync.Mutex
	subs     map[uuid.UUID]map[chan struct{}]struct{}
	handlers map[string][]func(payload string)
	states   []func(live bool)

	heads *headCache
}

// NewListener builds a listener on its own connection (not from a pool).
func NewListener(connConfig *pgx.ConnConfig, logger *slog.Logger) *Listener {
	return &Listener{connConfig: connConfig, logger: logger, subs: map[uuid.UUID]map[chan struct{}]struct{}{},
		handlers: map[string][]func(string){}, heads: newHeadCache(HeadTTL, maxHeads)}
}

// Handle calls fn with the payload of every notification on channel (a
// plain identifier) from the listener's goroutine; fn must be quick. Call
// it before Run.
func (l *Listener) Handle(channel string, fn func(payload string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlers[channel] = append(l.handlers[channel], fn)
}

// OnState calls fn(true) each time the listener is LISTENing (after a
// connection or reconnection) and fn(false) each time the connection is
// lost: what is cached from the notifications can be trusted only between
// the two. Call it before Run (called after, with Handle, fn is first
// turned on at the next reconnection).
func (l *Listener) OnState(fn func(live bool)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states = append(l.states, fn)
}

// Subscribe returns a channel signalled (coalesced) whenever the pipeline
// changes, and a function to unsubscribe.
func (l *Listener) Subscribe(id uuid.UUID) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	if l.subs[id] == nil {
		l.subs[id] = map[chan struct{}]struct{}{}
	}
	l.subs[id][ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs[id], ch)
		if len(l.subs[id]) == 0 {
			delete(l.subs, id)
		}
		l.mu.Unlock()
	}
}

func (l *Listener) wake(id uuid.UUID, all bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !all {
		for ch := range l.subs[id] {
			signal(ch)
		}
		return
	}
	for _, set := range l.subs {
		for ch := range set {
			signal(ch)
		}
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// setLive tells the heads and the OnState callbacks whether the
// notifications are being received.
func (l *Listener) setLive(live bool) {
	l.mu.Lock()
	states := l.states
	l.mu.Unlock()
	l.setLiveFor(live, states)
}

// setLiveFor is setLive for the given callbacks: going live, only those
// registered when the channels to LISTEN were read (a Handle and OnState
// pair added later is turned on at the next connection, once its channel
// is LISTENed).
func (l *Listener) setLiveFor(live bool, states []func(live bool)) {
	l.heads.setLive(live)
	for _, fn := range states {
		fn(live)
	}
}

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	delay := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := l.listen(ctx)
		l.setLive(false)
		if ctx.Err() != nil {
			return
		}
		l.logger.WarnContext(ctx, "pipeline listener disconnected, reconnecting",
			slog.String("error", err.Error()), slog.Duration("retry_in", delay))
		l.wake(uuid.Nil, true)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

func (l *Listener) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.connConfig)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	l.mu.Lock()
	channels := []string{NotifyChannel}
	for ch := range l.handlers {
		channels = append(channels, ch)
	}
	states := l.states
	l.mu.Unlock()
	// LISTEN is a utility statement sqlc cannot express; the channels are
	// our own plain identifiers.
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return err
		}
	}
	l.setLiveFor(true, states)
	l.wake(uuid.Nil, true) // catch up on anything missed while disconnected
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel != NotifyChannel {
			l.mu.Lock()
			handlers := l.handlers[n.Channel]
			l.mu.Unlock()
			for _, fn := range handlers {
				fn(n.Payload)
			}
			continue
		}
		idStr, verStr, _ := strings.Cut(n.Payload, ":")
		if id, err := uuid.Parse(idStr); err == nil {
			version, _ := strconv.ParseInt(verStr, 10, 64)
			l.heads.notified(id, version)
			l.wake(id, false)
		}
	}
}
