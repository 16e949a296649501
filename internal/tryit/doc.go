// Package tryit holds the test that runs the README's "Try it without an account" section
// as a newcomer would: its build block, its fake Scalingo, then every other block in a
// plain shell with the lines the fake printed pasted in. It has no code of its own.
package tryit
