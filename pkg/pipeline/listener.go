package pipeline

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Listener holds one dedicated connection LISTENing on NotifyChannel and
// wakes the subscribers of a pipeline when its version changes. On a lost
// connection it reconnects with backoff and wakes every subscriber so they
// re-read (subscribers also poll, so a missed notification only delays).
type Listener struct {
	connConfig *pgx.ConnConfig
	logger     *slog.Logger

	mu   sync.Mutex
	subs map[uuid.UUID]map[chan struct{}]struct{}
}

// NewListener builds a listener on its own connection (not from a pool).
func NewListener(connConfig *pgx.ConnConfig, logger *slog.Logger) *Listener {
	return &Listener{connConfig: connConfig, logger: logger, subs: map[uuid.UUID]map[chan struct{}]struct{}{}}
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
	for pid, set := range l.subs {
		if !all && pid != id {
			continue
		}
		for ch := range set {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	delay := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := l.listen(ctx)
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
	// LISTEN is a utility statement sqlc cannot express.
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return err
	}
	l.wake(uuid.Nil, true) // catch up on anything missed while disconnected
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		idStr, _, _ := strings.Cut(n.Payload, ":")
		if id, err := uuid.Parse(idStr); err == nil {
			l.wake(id, false)
		}
	}
}
