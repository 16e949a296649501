package main

import "example.com/api/internal/api"

func main() {
	api.Start()
}
