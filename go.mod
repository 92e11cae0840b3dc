module gdbserverx

go 1.26.8

require (
	golang.org/x/sys v0.49.0
	pgregory.net/rapid v1.3.0
)

require (
	github.com/go-delve/delve v1.27.2 // indirect
	golang.org/x/arch v0.32.0 // indirect
)
