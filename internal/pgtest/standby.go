package pgtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

const standbyName = "pgtest_slow_standby"

// SlowStandby attaches a synchronous standby that confirms WAL only delay after receiving it:
// a real physical replication client (the protocol a standby speaks, without replaying), named
// in synchronous_standby_names. Every commit then stays invisible to new snapshots for about
// delay after its WAL was flushed, while logical walsenders already stream it — the window a
// loaded server or a real synchronous standby opens, made wide and certain. Removed in Cleanup.
func (i *Instance) SlowStandby(tb testing.TB, delay time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgconn.Connect(ctx, i.DSN("postgres")+"&replication=true&application_name="+standbyName)
	if err != nil {
		cancel()
		tb.Fatalf("pgtest: standby connect: %v", err)
	}
	sys, err := pglogrepl.IdentifySystem(ctx, conn)
	if err == nil {
		_, err = pglogrepl.CreateReplicationSlot(ctx, conn, standbyName, "",
			pglogrepl.CreateReplicationSlotOptions{Temporary: true, Mode: pglogrepl.PhysicalReplication})
	}
	if err == nil {
		err = pglogrepl.StartReplication(ctx, conn, standbyName, sys.XLogPos,
			pglogrepl.StartReplicationOptions{Mode: pglogrepl.PhysicalReplication})
	}
	if err != nil {
		cancel()
		conn.Close(context.Background())
		tb.Fatalf("pgtest: start physical replication: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- runSlowStandby(ctx, conn, sys.XLogPos, delay) }()
	tb.Cleanup(func() {
		// Commits would hang without the standby: release them before it goes.
		i.setSyncStandby(tb, "")
		cancel()
		_ = <-done // the standby's error after cancel is the cancellation
		conn.Close(context.Background())
	})
	i.setSyncStandby(tb, standbyName)
}

// setSyncStandby sets synchronous_standby_names and waits until the server applied it.
func (i *Instance) setSyncStandby(tb testing.TB, name string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, i.DSN("postgres"))
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, fmt.Sprintf("alter system set synchronous_standby_names = '%s'", name)); err != nil {
		tb.Fatalf("pgtest: set synchronous_standby_names: %v", err)
	}
	if _, err := conn.Exec(ctx, "select pg_reload_conf()"); err != nil {
		tb.Fatalf("pgtest: reload: %v", err)
	}
	want := "async"
	if name != "" {
		want = "sync"
	}
	for {
		var state string
		err := conn.QueryRow(ctx, "select coalesce((select sync_state from pg_stat_replication where application_name = $1), 'none')",
			standbyName).Scan(&state)
		if err != nil {
			tb.Fatalf("pgtest: pg_stat_replication: %v", err)
		}
		if state == want || (name == "" && state == "none") {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("pgtest: standby state %q, want %q", state, want)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// runSlowStandby receives WAL and confirms each position delay after it arrived.
func runSlowStandby(ctx context.Context, conn *pgconn.PgConn, start pglogrepl.LSN, delay time.Duration) error {
	type held struct {
		due time.Time
		lsn pglogrepl.LSN
	}
	var queue []held
	received, confirmed := start, start
	for {
		now := time.Now()
		for len(queue) > 0 && !queue[0].due.After(now) {
			confirmed, queue = queue[0].lsn, queue[1:]
		}
		err := pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{
			WALWritePosition: received, WALFlushPosition: confirmed, WALApplyPosition: confirmed})
		if err != nil {
			return err
		}
		wait := now.Add(100 * time.Millisecond)
		if len(queue) > 0 {
			wait = queue[0].due
		}
		rctx, cancel := context.WithDeadline(ctx, wait)
		msg, err := conn.ReceiveMessage(rctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if pgconn.Timeout(err) {
				continue
			}
			return err
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok || len(cd.Data) == 0 || cd.Data[0] != pglogrepl.XLogDataByteID {
			continue
		}
		x, err := pglogrepl.ParseXLogData(cd.Data[1:])
		if err != nil {
			return err
		}
		if end := x.WALStart + pglogrepl.LSN(len(x.WALData)); end > received {
			received = end
			queue = append(queue, held{due: time.Now().Add(delay), lsn: end})
		}
	}
}
