# cmake -DINPUT=<file> -DOUTPUT=<header> -DNAME=<symbol> -P EmbedFile.cmake
# Writes a header defining `static const unsigned char NAME[]` with the bytes
# of INPUT and `NAME_size`, written atomically (renamed into place).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hexLength)
math(EXPR size "${hexLength} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/EmbedFile.cmake; do not edit.\n"
  "static const unsigned char ${NAME}[] = {\n${bytes}\n};\n"
  "static const unsigned long ${NAME}_size = ${size};\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
