# BPF programs, compiled by clang for the BPF target on their own (never with the build's
# C++ flags or sanitizers), and the bpftool skeletons that embed them. Nothing is
# downloaded: clang, bpftool and libbpf-dev come from Debian. Included once, by the top
# CMakeLists.txt, so every folder sees the same settings and PkgConfig::LIBBPF.
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)
find_program(HEARTH_BPF_CLANG NAMES clang clang-16 clang-14 REQUIRED)
find_program(HEARTH_BPFTOOL bpftool PATHS /usr/sbin /sbin REQUIRED)

# The BPF target has no system headers of its own: the host's asm/ lives under the
# multiarch include directory (/usr/include/x86_64-linux-gnu on Debian).
set(HEARTH_MULTIARCH "${CMAKE_LIBRARY_ARCHITECTURE}")
if(NOT HEARTH_MULTIARCH)
    execute_process(COMMAND gcc -print-multiarch OUTPUT_VARIABLE HEARTH_MULTIARCH
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(HEARTH_BPF_ARCH arm64)
else()
    set(HEARTH_BPF_ARCH x86)
endif()

# hearth_bpf_object(<name> DEPENDS <headers>...): <name>.bpf.c in this folder compiled to
# <name>.bpf.o in the build folder. -mcpu=v3: atomic compare-and-swap.
function(hearth_bpf_object name)
    cmake_parse_arguments(PARSE_ARGV 1 BPF "" "" "DEPENDS")
    add_custom_command(
        OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o
        COMMAND ${HEARTH_BPF_CLANG} -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_${HEARTH_BPF_ARCH}
                -I/usr/include/${HEARTH_MULTIARCH} -I${PROJECT_SOURCE_DIR} -Wall -Werror
                -c ${CMAKE_CURRENT_SOURCE_DIR}/${name}.bpf.c -o ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o
        DEPENDS ${name}.bpf.c ${BPF_DEPENDS}
        COMMENT "Compiling the BPF program ${name} (clang -target bpf)"
        VERBATIM)
endfunction()

# hearth_bpf_skeleton(<name> DEPENDS <headers>...): as hearth_bpf_object, and <name>.skel.h
# beside it, whose functions are named <name>_bpf__*.
function(hearth_bpf_skeleton name)
    cmake_parse_arguments(PARSE_ARGV 1 BPF "" "" "DEPENDS")
    hearth_bpf_object(${name} DEPENDS ${BPF_DEPENDS})
    add_custom_command(
        OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${name}.skel.h
        COMMAND sh -c "\"$0\" gen skeleton \"$1\" name ${name}_bpf > \"$2.tmp\" && mv \"$2.tmp\" \"$2\""
                ${HEARTH_BPFTOOL} ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o
                ${CMAKE_CURRENT_BINARY_DIR}/${name}.skel.h
        DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o
        COMMENT "Generating the skeleton of ${name} (bpftool)"
        VERBATIM)
endfunction()
