package changes

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

type tableColumn struct {
	typeOID  uint32
	typeName string // format_type, safe to interpolate (it comes from the catalog)
	readable bool
}

// compileBinding validates a binding's filters and selected columns against its table, as the
// realtime.subscription trigger does, and canonicalises filter values through the database so
// that matching compares the same text forms pgoutput sends.
func compileBinding(ctx context.Context, pool *pgxpool.Pool, role string, pt pubTable, bd *bound) error {
	cols, err := tableColumns(ctx, pool, role, pt.oid)
	if err != nil {
		return err
	}
	for _, c := range bd.selected {
		if col, ok := cols[c]; !ok || !col.readable {
			return exceptionError(bd.Binding, "ERROR P0001 (raise_exception) invalid column for select "+c)
		}
	}
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin filter validation: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }() // after Commit it only reports ErrTxClosed
	if _, err := tx.Exec(ctx, "select set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, MDY', true), set_config('bytea_output', 'hex', true), set_config('extra_float_digits', '1', true)"); err != nil {
		return fmt.Errorf("filter validation settings: %w", err)
	}
	for _, c := range bd.Binding.conds {
		col, ok := cols[c.Column]
		if !ok || !col.readable {
			return exceptionError(bd.Binding, "ERROR P0001 (raise_exception) invalid column for filter "+c.Column)
		}
		cc, err := compileCond(ctx, tx, c, col)
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) {
				return exceptionError(bd.Binding, postgrexText(pgErr))
			}
			var perm permanentError
			if errors.As(err, &perm) {
				return exceptionError(bd.Binding, perm.msg)
			}
			return err
		}
		bd.conds = append(bd.conds, cc)
	}
	return nil
}

func tableColumns(ctx context.Context, pool *pgxpool.Pool, role string, relid uint32) (map[string]tableColumn, error) {
	rows, err := pool.Query(ctx, `select a.attname::text, a.atttypid, format_type(a.atttypid, a.atttypmod),
		coalesce(has_column_privilege($1, a.attrelid, a.attnum, 'SELECT'), false)
		from pg_attribute a where a.attrelid = $2 and a.attnum > 0 and not a.attisdropped`, role, relid)
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	defer rows.Close()
	out := map[string]tableColumn{}
	for rows.Next() {
		var name string
		var c tableColumn
		if err := rows.Scan(&name, &c.typeOID, &c.typeName, &c.readable); err != nil {
			return nil, fmt.Errorf("scan column: %w", err)
		}
		out[name] = c
	}
	return out, rows.Err()
}

// compileCond binds one condition to its column type.
func compileCond(ctx context.Context, tx pgx.Tx, c Cond, col tableColumn) (compiledCond, error) {
	cc := compiledCond{Cond: c, kind: kindForBase(col.typeOID)}
	if t, ok := builtinTypes[col.typeOID]; ok && t.kind == kArray {
		cc.kind = kString // arrays compare by canonical text
	}
	switch c.Op {
	case "eq", "neq", "lt", "lte", "gt", "gte", "isdistinct":
		err := tx.QueryRow(ctx, fmt.Sprintf("select format('%%s', $1::text::%s)", col.typeName), c.Value).Scan(&cc.val)
		return cc, err
	case "in":
		var vals []*string
		err := tx.QueryRow(ctx, fmt.Sprintf(
			"select array(select case when e is null then null else format('%%s', e) end from unnest($1::text::%s[]) e)",
			col.typeName), c.Value).Scan(&vals)
		if err != nil {
			return cc, err
		}
		if len(vals) > 100 {
			return cc, permanentError{"ERROR P0001 (raise_exception) too many values for `in` filter. Maximum 100"}
		}
		cc.list = vals
		return cc, nil
	case "like", "ilike":
		op := "~~"
		if c.Op == "ilike" {
			op = "~~*"
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("select null::%s %s $1::text", col.typeName, op), c.Value); err != nil {
			return cc, err
		}
		re, err := likeToRegexp(c.Value, c.Op == "ilike")
		if err != nil {
			return cc, permanentError{"ERROR 2201B (invalid_regular_expression) " + err.Error()}
		}
		cc.re = re
		return cc, nil
	case "match", "imatch":
		op := "~"
		if c.Op == "imatch" {
			op = "~*"
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("select null::%s %s $1::text, '' ~ $1::text", col.typeName, op), c.Value); err != nil {
			return cc, err
		}
		re, err := posixToRegexp(c.Value, c.Op == "imatch")
		if err != nil {
			return cc, permanentError{"ERROR 2201B (invalid_regular_expression) " + err.Error()}
		}
		cc.re = re
		return cc, nil
	case "is":
		switch strings.ToLower(c.Value) {
		case "null":
			cc.isNull = true
			return cc, nil
		case "unknown", "true", "false":
			if col.typeOID != 16 {
				return cc, permanentError{fmt.Sprintf("ERROR 42804 (datatype_mismatch) argument of IS %s must be type boolean, not type %s",
					strings.ToUpper(c.Value), col.typeName)}
			}
			cc.isNull = strings.EqualFold(c.Value, "unknown")
			cc.isBool = strings.EqualFold(c.Value, "true")
			return cc, nil
		}
		return cc, permanentError{"ERROR P0001 (raise_exception) invalid value for `is` filter: " + c.Value}
	}
	return cc, permanentError{"ERROR P0001 (raise_exception) unsupported operator " + c.Op}
}

var conditionNames = map[string]string{
	"P0001": "raise_exception", "22P02": "invalid_text_representation", "22007": "invalid_datetime_format",
	"22008": "datetime_field_overflow", "22003": "numeric_value_out_of_range", "42883": "undefined_function",
	"2201B": "invalid_regular_expression", "42704": "undefined_object", "22023": "invalid_parameter_value",
	"42501": "insufficient_privilege", "42804": "datatype_mismatch", "22001": "string_data_right_truncation",
}

// postgrexText formats a Postgres error like Postgrex's exception message does.
func postgrexText(e *pgconn.PgError) string {
	if name, ok := conditionNames[e.Code]; ok {
		return fmt.Sprintf("%s %s (%s) %s", e.Severity, e.Code, name, e.Message)
	}
	return fmt.Sprintf("%s %s %s", e.Severity, e.Code, e.Message)
}
