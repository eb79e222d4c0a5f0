// Package engine runs notebook cells. The engine is a separate process (the
// goproc binary in engine mode) holding one yaegi interpreter, so that nothing
// a cell does can kill the process that holds the Jupyter sockets. Client is
// the front's side of it and implements language.Engine; Serve is the engine
// process's side; RunWorker is a child process of runtime/multiprocessing
// rebuilding the notebook.
package engine
