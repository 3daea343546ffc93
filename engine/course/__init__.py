"""The course (/learn): the engine side of its exercises and the loss surfaces of lesson 6.

`surface` computes a two-weight loss surface and the paths SGD, momentum and Adam take over it;
`checks` holds one check per exercise: it runs the engine on the learner's answer and says what was right
or what to look at; `lessons` is the catalogue of lessons, their widgets' preset states and exercises.
"""
