module github.com/scalingo-deploy/scalingo-deploy/internal/fakescalingo/oracle

go 1.26.0

replace github.com/scalingo-deploy/scalingo-deploy => ../../..

require (
	github.com/Scalingo/go-scalingo/v10 v10.0.0
	github.com/Scalingo/go-utils/pagination v1.2.0
	github.com/gorilla/websocket v1.5.3
	github.com/scalingo-deploy/scalingo-deploy v0.0.0-00010101000000-000000000000
)

require (
	github.com/Scalingo/go-utils/errors/v3 v3.2.0 // indirect
	github.com/coder/websocket v1.8.14 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/golang/mock v1.6.0 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	golang.org/x/text v0.42.0 // indirect
	gopkg.in/errgo.v1 v1.0.1 // indirect
)
