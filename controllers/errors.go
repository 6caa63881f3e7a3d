package controllers

import (
	"errors"
	"fmt"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// specError is a failure the user must fix (a Secret without its key, a name taken by another
// object): it is reported in the Ready condition with its own reason and in a warning event, and
// not retried with backoff (the watches bring the object back when the cause changes).
type specError struct {
	reason realtimev1.ConditionReason
	msg    string
}

func (e *specError) Error() string { return e.msg }

func specErrorf(reason realtimev1.ConditionReason, format string, args ...any) error {
	return &specError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// failureReason classifies err for the Ready condition: a specError's reason, else
// ReconcileFailed (an API or database error, retried with backoff).
func failureReason(err error) (realtimev1.ConditionReason, bool) {
	var se *specError
	if errors.As(err, &se) {
		return se.reason, true
	}
	return realtimev1.ReasonReconcileFailed, false
}
