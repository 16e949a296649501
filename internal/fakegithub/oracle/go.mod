module github.com/scalingo-deploy/scalingo-deploy/internal/fakegithub/oracle

go 1.26.0

replace github.com/scalingo-deploy/scalingo-deploy => ../../..

require (
	github.com/google/go-github/v84 v84.0.0
	github.com/scalingo-deploy/scalingo-deploy v0.0.0-00010101000000-000000000000
)

require github.com/google/go-querystring v1.2.0 // indirect
