package changes

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// One permanent slot per tenant streams both publications: supabase_realtime (Postgres Changes)
// and the messages publication (database broadcasts). Compared with upstream's second, temporary
// slot for broadcasts, this keeps one walsender and one decoding pass per tenant, and database
// broadcasts get the same no-loss guarantee as changes instead of being lost on a restart.

// item is what the reader hands the processor, in stream order: a committed transaction, or a
// position marker (the stream has read everything up to pos / saw a readiness message).
type item struct {
	t     *txn
	pos   pglogrepl.LSN
	token string
}

const statusInterval = time.Second

// reader owns the replication connection: it decodes pgoutput into transactions for the processor
// and reports the processor's progress back to Postgres as the flush position.
type reader struct {
	w          *worker
	conn       *pgconn.PgConn
	out        chan<- item
	rels       map[uint32]*relation
	cur        *txn
	received   pglogrepl.LSN
	dispatched pglogrepl.LSN // end of the last transaction handed to the processor
	serverEnd  pglogrepl.LSN
	nextStatus time.Time
}

func (r *reader) run(ctx context.Context) error {
	for {
		if err := r.maybeStatus(ctx, false); err != nil {
			return err
		}
		rctx, cancel := context.WithDeadline(ctx, r.nextStatus)
		raw, err := r.conn.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) {
				continue
			}
			return fmt.Errorf("receive: %w", err)
		}
		switch msg := raw.(type) {
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("replication stream: %w", pgconn.ErrorResponseToPgError(msg))
		case *pgproto3.CopyData:
			if err := r.handleCopyData(ctx, msg.Data); err != nil {
				return err
			}
		}
	}
}

func (r *reader) handleCopyData(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return fmt.Errorf("parse keepalive: %w", err)
		}
		r.serverEnd = ka.ServerWALEnd
		r.w.serverEnd.Store(uint64(ka.ServerWALEnd))
		if r.w.ready.pending() && r.cur == nil {
			if err := r.send(ctx, item{pos: ka.ServerWALEnd}); err != nil {
				return err
			}
		}
		return r.maybeStatus(ctx, ka.ReplyRequested)
	case pglogrepl.XLogDataByteID:
		x, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return fmt.Errorf("parse xlogdata: %w", err)
		}
		if x.WALStart > r.received {
			r.received = x.WALStart
		}
		if x.ServerWALEnd > r.serverEnd {
			r.serverEnd = x.ServerWALEnd
			r.w.serverEnd.Store(uint64(x.ServerWALEnd))
		}
		return r.handleLogical(ctx, x.WALData)
	}
	return nil
}

func (r *reader) handleLogical(ctx context.Context, data []byte) error {
	m, err := pglogrepl.Parse(data)
	if err != nil {
		return fmt.Errorf("parse pgoutput: %w", err)
	}
	switch m := m.(type) {
	case *pglogrepl.RelationMessage:
		r.rels[m.RelationID] = newRelation(m)
	case *pglogrepl.BeginMessage:
		r.cur = &txn{xid: m.Xid, commitTime: m.CommitTime}
	case *pglogrepl.InsertMessage:
		r.addChange(m.RelationID, 'I', m.Tuple, nil, nil)
	case *pglogrepl.UpdateMessage:
		r.addChange(m.RelationID, 'U', m.NewTuple, m.OldTuple, keyFlags(r.rels[m.RelationID], m.OldTupleType))
	case *pglogrepl.DeleteMessage:
		r.addChange(m.RelationID, 'D', nil, m.OldTuple, keyFlags(r.rels[m.RelationID], m.OldTupleType))
	case *pglogrepl.CommitMessage:
		if r.cur == nil {
			return nil
		}
		t := r.cur
		r.cur = nil
		t.end, t.commitTime = m.TransactionEndLSN, m.CommitTime
		r.dispatched = t.end
		return r.send(ctx, item{t: t})
	case *pglogrepl.LogicalDecodingMessage:
		if m.Prefix == readyPrefix && !m.Transactional {
			return r.send(ctx, item{token: string(m.Content), pos: m.LSN})
		}
	}
	return nil
}

// keyFlags returns the relation's key columns when the old image is a key image ('K'), whose
// non-key columns Postgres sends as NULL.
func keyFlags(rel *relation, tupleType uint8) []bool {
	if rel == nil || tupleType != pglogrepl.UpdateMessageTupleTypeKey {
		return nil
	}
	return rel.key
}

func (r *reader) addChange(relID uint32, op byte, newT, oldT *pglogrepl.TupleData, keyOnly []bool) {
	rel := r.rels[relID]
	if rel == nil || r.cur == nil {
		return // cannot happen with pgoutput: a Relation message precedes first use
	}
	ch := &change{rel: rel, op: op}
	var n, o int
	ch.newT, n = tupleVals(newT, len(rel.cols), nil)
	ch.oldT, o = tupleVals(oldT, len(rel.cols), keyOnly)
	ch.size = n + o
	r.cur.changes = append(r.cur.changes, ch)
	r.w.metrics.decoded.Inc()
}

func (r *reader) send(ctx context.Context, it item) error {
	select {
	case r.out <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maybeStatus sends a standby status update when due (or when force is set). The flush position
// is what the processor has fully handed to subscribers; when nothing is in flight it may move to
// the server's end so an idle tenant does not hold WAL back.
func (r *reader) maybeStatus(ctx context.Context, force bool) error {
	now := time.Now()
	poke := r.w.ready.pending()
	if !force && now.Before(r.nextStatus) {
		return nil
	}
	flush := pglogrepl.LSN(r.w.processed.Load())
	if r.cur == nil && flush >= r.dispatched && r.serverEnd > flush {
		flush = r.serverEnd
		r.w.advanceIdle(flush)
	}
	interval := statusInterval
	if poke {
		interval = 200 * time.Millisecond // ask for keepalives so readiness markers flow
	}
	r.nextStatus = now.Add(interval)
	// The write position is the flush position, never what was merely received: pglogrepl
	// replaces a zero flush position with the write position, so a status sent before this
	// stream's first confirmation (flush 0) confirmed everything received, and a transaction
	// whose delivery then failed (an RLS check's connection lost) was skipped after the restart.
	// Found by TestRLSCheckConnectionLossLosesNothing under load.
	write := flush
	err := pglogrepl.SendStandbyStatusUpdate(ctx, r.conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: write, WALFlushPosition: flush, WALApplyPosition: flush, ReplyRequested: poke,
	})
	if err != nil {
		return fmt.Errorf("send standby status: %w", err)
	}
	r.w.confirmed.Store(uint64(flush))
	if r.serverEnd > flush {
		r.w.metrics.lag.WithLabelValues(r.w.t.ExternalID).Set(float64(r.serverEnd - flush))
	} else {
		r.w.metrics.lag.WithLabelValues(r.w.t.ExternalID).Set(0)
	}
	return nil
}

// startStream opens the replication connection and starts streaming the slot from its confirmed
// position.
func startStream(ctx context.Context, w *worker) (*pgconn.PgConn, error) {
	cfg, err := replConfig(w.t.Database)
	if err != nil {
		return nil, err
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("replication connect: %w", err)
	}
	if err := ensureSlot(ctx, w.pool, conn, w.slot); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	err = pglogrepl.StartReplication(ctx, conn, w.slot, 0, pglogrepl.StartReplicationOptions{
		Mode: pglogrepl.LogicalReplication,
		PluginArgs: []string{"proto_version '1'",
			fmt.Sprintf("publication_names '%s,%s'", ChangesPublication, MessagesPublication),
			"messages 'true'"},
	})
	if err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("start replication on %s: %w", w.slot, err)
	}
	return conn, nil
}

// atomicLSN is an LSN shared between the reader, the processor and Status.
type atomicLSN = atomic.Uint64
