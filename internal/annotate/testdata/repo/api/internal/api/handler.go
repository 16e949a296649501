package api

import "net/http"

// Start serves the API.
func Start() {
	http.HandleFunc("/", handle)
	Serve(":8080")
}

func handle(w http.ResponseWriter, r *http.Request) {
	var count int = "none"
	w.Write([]byte("ok"))
}
