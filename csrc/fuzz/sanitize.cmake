# -DOLLALOG_SANITIZE=ON / -DOLLALOG_FUZZ=ON: AddressSanitizer and UndefinedBehaviorSanitizer on
# every C file of the build (the core included), any finding fatal; with OLLALOG_FUZZ the core is
# also instrumented for libFuzzer's coverage. Included before the core is defined.
if(OLLALOG_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "OLLALOG_FUZZ needs clang (libFuzzer): cmake -DCMAKE_C_COMPILER=clang ...")
  endif()
  set(OLLALOG_SANITIZE ON)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
if(OLLALOG_SANITIZE)
  if(MSVC)
    message(FATAL_ERROR "OLLALOG_SANITIZE needs clang or gcc")
  endif()
  set(_ol_san -fsanitize=address,undefined -fno-sanitize-recover=all)
  add_compile_options(${_ol_san} -fno-omit-frame-pointer -g)
  add_link_options(${_ol_san})
endif()
