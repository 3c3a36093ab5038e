// Package poll waits for a condition with a deadline: what tests and tools
// use instead of sleeping for a fixed time and hoping the system settled.
package poll
