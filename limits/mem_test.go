package limits

import "runtime"

type runtimeMem struct{ heap uint64 }

func (r *runtimeMem) read() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.heap = ms.HeapAlloc
}
