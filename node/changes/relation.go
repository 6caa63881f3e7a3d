package changes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// colVal is one column of a row image: state 'n' NULL, 'u' unchanged TOAST (value not sent),
// 't' text; 0 means the column is absent from the image (e.g. non-key column of an old key image).
type colVal struct {
	state byte
	text  string
}

// change is one decoded row change.
type change struct {
	rel  *relation
	op   byte     // 'I', 'U', 'D'
	newT []colVal // INSERT/UPDATE
	oldT []colVal // UPDATE (REPLICA IDENTITY FULL or key change), DELETE; nil when not sent
	size int      // bytes of column text, for the oversized-record rule
}

// txn is one committed transaction with the changes Postgres Changes or DB broadcasts care about.
type txn struct {
	end        pglogrepl.LSN // transaction end LSN: confirming it acknowledges the whole txn
	xid        uint32        // top-level transaction id (pgoutput Begin), for RLS visibility
	commitTime time.Time
	changes    []*change
}

// column is one published column of a relation.
type column struct {
	name string
	typ  *typeInfo
	oid  uint32
}

// relation is the stream's view of a table, built from a pgoutput Relation message (which Postgres
// resends after every schema change, so a new message means new catalog facts). The catalog part
// (primary key, RLS flag, privileges) is loaded lazily by the tenant's processor goroutine, which
// alone reads and writes it.
type relation struct {
	id           uint32
	schema, name string
	replIdent    byte
	cols         []column
	colIndex     map[string]int
	key          []bool // replica identity columns (pgoutput flag 1)

	typed      bool // column types resolved
	loaded     bool
	loadedAt   time.Time
	rls        bool
	pk         []int    // indices into cols, in key order
	pkCast     []string // format_type of each pk column, for RLS queries
	inChanges  bool     // member of publication supabase_realtime
	isMessages bool     // realtime.messages (or a partition): database broadcasts
	quoted     string
	privs      map[string]rolePrivs
}

// rolePrivs says which columns a role may SELECT.
type rolePrivs struct {
	at      time.Time
	canRead []bool
	allPK   bool // every primary-key column readable
	allCols bool // every column readable
}

const catalogTTL = 60 * time.Second

// ensureLoaded reads the catalog facts of rel (once per Relation message, refreshed after a TTL so
// ALTER ... ENABLE ROW LEVEL SECURITY without a schema change is picked up).
func (r *relation) ensureLoaded(ctx context.Context, pool *pgxpool.Pool, pub string) error {
	if r.loaded && time.Since(r.loadedAt) < catalogTTL {
		return nil
	}
	var (
		rls      bool
		pkNames  []string
		pkCasts  []string
		inChange bool
	)
	err := pool.QueryRow(ctx, `
select c.relrowsecurity,
  coalesce((select array_agg(a.attname::text order by k.ord)
            from pg_index i, unnest(i.indkey) with ordinality k(attnum, ord), pg_attribute a
            where i.indrelid = c.oid and i.indisprimary and a.attrelid = c.oid and a.attnum = k.attnum), '{}'),
  coalesce((select array_agg(format_type(a.atttypid, a.atttypmod) order by k.ord)
            from pg_index i, unnest(i.indkey) with ordinality k(attnum, ord), pg_attribute a
            where i.indrelid = c.oid and i.indisprimary and a.attrelid = c.oid and a.attnum = k.attnum), '{}'),
  exists(select 1 from pg_publication_tables p where p.pubname = $2 and p.schemaname = $3 and p.tablename = $4)
from pg_class c where c.oid = $1`, r.id, pub, r.schema, r.name).Scan(&rls, &pkNames, &pkCasts, &inChange)
	if errors.Is(err, pgx.ErrNoRows) {
		// Dropped since this change was written: no subscriber can match it any more (Supabase
		// only decodes tables published now), but the stream must move past it, not stall.
		r.markDropped()
		return nil
	}
	if err != nil {
		return fmt.Errorf("load relation %s.%s: %w", r.schema, r.name, err)
	}
	r.rls, r.inChanges = rls, inChange
	r.pk, r.pkCast = r.pk[:0], pkCasts
	for _, n := range pkNames {
		if i, ok := r.colIndex[n]; ok {
			r.pk = append(r.pk, i)
		}
	}
	if len(r.pk) != len(pkNames) { // a key column is not published: treat as no usable key
		r.pk, r.pkCast = nil, nil
	}
	r.isMessages = r.schema == "realtime" && strings.HasPrefix(r.name, "messages")
	r.quoted = pgx.Identifier{r.schema, r.name}.Sanitize()
	r.privs = map[string]rolePrivs{}
	r.loaded, r.loadedAt = true, time.Now()
	return nil
}

// markDropped records that rel no longer exists: not published, so its changes are skipped, while
// database broadcasts from realtime.messages partitions still use the Relation message's columns.
func (r *relation) markDropped() {
	r.rls, r.inChanges = false, false
	r.pk, r.pkCast = nil, nil
	r.isMessages = r.schema == "realtime" && strings.HasPrefix(r.name, "messages")
	r.quoted = pgx.Identifier{r.schema, r.name}.Sanitize()
	r.privs = map[string]rolePrivs{}
	r.loaded, r.loadedAt = true, time.Now()
}

// privsFor returns the column privileges of role on rel, cached for catalogTTL. Columns are looked
// up by name among the live attributes: a column dropped or renamed after the change was written
// is simply not readable (the name form of has_column_privilege would raise and stall the stream).
func (r *relation) privsFor(ctx context.Context, pool *pgxpool.Pool, role string) (rolePrivs, error) {
	if p, ok := r.privs[role]; ok && time.Since(p.at) < catalogTTL {
		return p, nil
	}
	names := make([]string, len(r.cols))
	for i, c := range r.cols {
		names[i] = c.name
	}
	var can []bool
	err := pool.QueryRow(ctx, `
select coalesce(array_agg(coalesce((
    select has_column_privilege($1, $2::oid, a.attnum, 'SELECT') from pg_attribute a
    where a.attrelid = $2::oid and a.attname = u.n and not a.attisdropped), false) order by o), '{}')
from unnest($3::text[]) with ordinality u(n, o)`, role, r.id, names).Scan(&can)
	if err != nil {
		return rolePrivs{}, fmt.Errorf("column privileges of %s on %s.%s: %w", role, r.schema, r.name, err)
	}
	p := rolePrivs{at: time.Now(), canRead: can, allPK: true, allCols: true}
	for _, i := range r.pk {
		if !can[i] {
			p.allPK = false
		}
	}
	for _, ok := range can {
		if !ok {
			p.allCols = false
		}
	}
	r.privs[role] = p
	return p, nil
}

// newRelation builds the stream's relation from a pgoutput Relation message.
func newRelation(m *pglogrepl.RelationMessage) *relation {
	r := &relation{id: m.RelationID, schema: m.Namespace, name: m.RelationName,
		replIdent: m.ReplicaIdentity, colIndex: make(map[string]int, len(m.Columns))}
	for i, c := range m.Columns {
		r.cols = append(r.cols, column{name: c.Name, oid: c.DataType})
		r.colIndex[c.Name] = i
		r.key = append(r.key, c.Flags&1 == 1)
	}
	return r
}

// tupleVals converts pgoutput tuple data into column values, counting the text bytes. In a key
// image (keyOnly) Postgres sends non-key columns as NULL; they are marked absent instead.
func tupleVals(t *pglogrepl.TupleData, n int, keyOnly []bool) ([]colVal, int) {
	if t == nil {
		return nil, 0
	}
	out := make([]colVal, n)
	size := 0
	for i, c := range t.Columns {
		if i >= n {
			break
		}
		if keyOnly != nil && !keyOnly[i] {
			continue
		}
		switch c.DataType {
		case pglogrepl.TupleDataTypeText, pglogrepl.TupleDataTypeBinary:
			out[i] = colVal{state: 't', text: string(c.Data)}
			size += len(c.Data)
		case pglogrepl.TupleDataTypeNull:
			out[i] = colVal{state: 'n'}
		case pglogrepl.TupleDataTypeToast:
			out[i] = colVal{state: 'u'}
		}
	}
	return out, size
}
