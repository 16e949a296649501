package clock

import (
	"context"
	"testing"
	"time"
)

func TestFake(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(start)
	late := f.After(2 * time.Second)
	early := f.After(time.Second)
	select {
	case <-f.After(0):
	default:
		t.Fatal("After(0) did not fire at once")
	}
	done := make(chan struct{})
	go func() { f.BlockUntil(2); close(done) }()
	<-done
	f.Advance(999 * time.Millisecond)
	select {
	case <-early:
		t.Fatal("fired before it was due")
	default:
	}
	f.Advance(time.Millisecond)
	if got := <-early; !got.Equal(start.Add(time.Second)) {
		t.Errorf("early fired at %v", got)
	}
	if n := f.Waiters(); n != 1 {
		t.Errorf("%d waiters, want 1", n)
	}
	f.Advance(time.Hour)
	if got := <-late; !got.Equal(start.Add(time.Hour + time.Second)) {
		t.Errorf("late fired at %v", got)
	}
	if !f.Now().Equal(start.Add(time.Hour + time.Second)) {
		t.Errorf("Now = %v", f.Now())
	}
}

func TestReal(t *testing.T) {
	t.Parallel()
	if d := time.Since(Real.Now()); d < 0 || d > time.Minute {
		t.Errorf("Real.Now is %v away", d)
	}
	<-Real.After(0)
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx := context.Background()
	if _, ok := Deadline(ctx); ok || !Fits(ctx, at, time.Hour) {
		t.Fatal("a context without a deadline has one")
	}
	ctx = WithDeadline(ctx, at)
	tests := []struct {
		name string
		ctx  context.Context
		now  time.Time
		wait time.Duration
		want bool
	}{
		{"ends before", ctx, at.Add(-2 * time.Second), time.Second, true},
		{"ends on it", ctx, at.Add(-time.Second), time.Second, true},
		{"ends after", ctx, at.Add(-time.Second), 2 * time.Second, false},
		{"already past", ctx, at.Add(time.Second), 0, false},
		{"a later deadline does not extend it", WithDeadline(ctx, at.Add(time.Hour)), at, time.Minute, false},
		{"an earlier one shortens it", WithDeadline(ctx, at.Add(-time.Minute)), at.Add(-2 * time.Minute), 2 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Fits(tt.ctx, tt.now, tt.wait); got != tt.want {
				t.Errorf("Fits = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFake_Next(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(start)
	if _, ok := f.Next(); ok {
		t.Fatal("Next with no waiter")
	}
	f.After(3 * time.Second)
	f.After(time.Second)
	if next, ok := f.Next(); !ok || !next.Equal(start.Add(time.Second)) {
		t.Errorf("Next = %v, %v; want +1s", next, ok)
	}
	f.Advance(time.Second)
	if next, ok := f.Next(); !ok || !next.Equal(start.Add(3*time.Second)) {
		t.Errorf("after the first fired: Next = %v, %v; want +3s", next, ok)
	}
}
