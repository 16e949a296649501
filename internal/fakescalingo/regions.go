package fakescalingo

import "net/http/httptest"

// region is one regional API server.
type region struct {
	name string
	url  string
	srv  *httptest.Server
}

// Regions returns the names of the regions the fake serves, default first.
func (s *Server) Regions() []string {
	var names []string
	for _, rg := range s.regions {
		names = append(names, rg.name)
	}
	return names
}

// RegionAPIURL returns the API URL (without /v1) of the named region, ""
// for a region the fake does not serve. RegionAPIURL(Options.Region) is APIURL.
func (s *Server) RegionAPIURL(name string) string {
	for _, rg := range s.regions {
		if rg.name == name {
			return rg.url
		}
	}
	return ""
}
