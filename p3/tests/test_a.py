import os, time
def test_1(): time.sleep(0.3)
def test_crash(): os._exit(1)
def test_3(): time.sleep(0.3)
def test_4(): time.sleep(0.3)
def test_5(): assert 1
def test_6(): time.sleep(0.3)
