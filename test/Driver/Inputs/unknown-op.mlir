// An op no dialect defines.
func.func @f() {
  "qt.frobnicate"() : () -> ()
  return
}
